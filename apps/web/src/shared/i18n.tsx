import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';

/**
 * Minimal i18n for the web apps: flat message catalogs per locale, `{name}` placeholders, the
 * choice kept in localStorage (a preference, not a secret) and mirrored in <html lang>.
 */
export const locales = ['en', 'zh-CN'] as const;
export type Locale = (typeof locales)[number];
export type Catalog = Readonly<Record<string, string>>;
export type Catalogs<K extends string> = Readonly<Record<Locale, Readonly<Record<K, string>>>>;

const storageKey = 'yunpay.locale';

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (locales as readonly string[]).includes(value);
}

/** The saved choice, else the browser's first language we speak, else English. */
export function initialLocale(): Locale {
  try {
    const saved = globalThis.localStorage?.getItem(storageKey);
    if (isLocale(saved)) return saved;
  } catch {
    // Storage may be disabled (private mode): fall through.
  }
  const preferred = globalThis.navigator?.languages ?? [];
  for (const language of preferred) {
    if (language.toLowerCase().startsWith('zh')) return 'zh-CN';
    if (language.toLowerCase().startsWith('en')) return 'en';
  }
  return 'en';
}

/** Replaces `{name}` in a message with vars.name. */
export function interpolate(message: string, vars: Readonly<Record<string, string | number>> = {}): string {
  return message.replace(/\{([A-Za-z0-9_]+)\}/g, (whole, name: string) =>
    Object.prototype.hasOwnProperty.call(vars, name) ? String(vars[name]) : whole,
  );
}

export interface I18n<K extends string> {
  locale: Locale;
  setLocale: (locale: Locale) => void;
  t: (key: K, vars?: Readonly<Record<string, string | number>>) => string;
}

const I18nContext = createContext<I18n<string> | null>(null);

export function I18nProvider<K extends string>(props: { catalogs: Catalogs<K>; children: ReactNode }) {
  const [locale, setLocaleState] = useState<Locale>(initialLocale);
  useEffect(() => {
    document.documentElement.lang = locale;
  }, [locale]);
  const setLocale = useCallback((next: Locale) => {
    try {
      globalThis.localStorage?.setItem(storageKey, next);
    } catch {
      // Not saved: the choice still holds for this page.
    }
    setLocaleState(next);
  }, []);
  const value = useMemo<I18n<string>>(() => {
    const catalog = props.catalogs[locale] as Catalog;
    const fallback = props.catalogs.en as Catalog;
    return {
      locale,
      setLocale,
      t: (key, vars) => interpolate(catalog[key] ?? fallback[key] ?? key, vars),
    };
  }, [locale, setLocale, props.catalogs]);
  return <I18nContext.Provider value={value}>{props.children}</I18nContext.Provider>;
}

export function useI18n<K extends string>(): I18n<K> {
  const value = useContext(I18nContext);
  if (value === null) throw new Error('assertion failed: useI18n inside an I18nProvider');
  return value;
}
