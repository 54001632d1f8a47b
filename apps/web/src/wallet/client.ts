import {
  YunpayApiError,
  YunpayNetworkError,
  YunpayTimeoutError,
  createYunpay,
  newDeviceId,
  type WalletClient,
} from '@yunpay/sdk';
import type { I18n } from '../shared/i18n.js';
import type { MessageKey } from './messages.js';

/**
 * The wallet's one API client. The access token lives in the SDK's memory only; the refresh token
 * lives in the server's httpOnly cookie (the SDK's refreshTokenCookie mode). What localStorage
 * holds: the device id (an identifier, not a credential) and the language.
 */
const deviceIdKey = 'yunpay.wallet.device';

export function deviceId(): string {
  try {
    const saved = localStorage.getItem(deviceIdKey);
    if (saved !== null && /^[A-Za-z0-9_-]{8,64}$/.test(saved)) return saved;
    const made = newDeviceId();
    localStorage.setItem(deviceIdKey, made);
    return made;
  } catch {
    return newDeviceId();
  }
}

export function deviceName(): string {
  const agent = navigator.userAgent;
  const browser = /Edg\//.test(agent)
    ? 'Edge'
    : /Chrome\//.test(agent)
      ? 'Chrome'
      : /Firefox\//.test(agent)
        ? 'Firefox'
        : /Safari\//.test(agent)
          ? 'Safari'
          : 'Browser';
  const system = /Android/.test(agent)
    ? 'Android'
    : /iPhone|iPad/.test(agent)
      ? 'iOS'
      : /Mac OS/.test(agent)
        ? 'macOS'
        : /Windows/.test(agent)
          ? 'Windows'
          : /Linux/.test(agent)
            ? 'Linux'
            : 'Web';
  return `${browser} on ${system}`;
}

const browsers = ['Edge', 'Chrome', 'Firefox', 'Safari', 'Browser'] as const;
const systems = ['Android', 'iOS', 'macOS', 'Windows', 'Linux', 'Web'] as const;

/**
 * A device's name in the language shown. Names this app made (`Chrome on Linux`, kept by the
 * server as sent at sign-in) are rebuilt from their parts, so Chinese reads "Linux 上的 Chrome";
 * product names stay as they are. Any other name (another app's, a person's) is shown as given.
 */
export function deviceNameShown(name: string, t: I18n<MessageKey>['t']): string {
  const match = /^([A-Za-z]+) on ([A-Za-z]+)$/.exec(name);
  if (match === null) return name;
  const browser = browsers.find((known) => known === match[1]);
  const system = systems.find((known) => known === match[2]);
  if (browser === undefined || system === undefined) return name;
  return t('device.name', {
    browser: browser === 'Browser' ? t('device.browser') : browser,
    system: system === 'Web' ? t('device.web') : system,
  });
}

/** The wallet's client type: cookie mode, so signIn answers without a refresh token. */
export type AppWalletClient = WalletClient<true>;

export function createWalletClient(onSessionEnded: () => void): AppWalletClient {
  return createYunpay({ baseUrl: location.origin }).wallet({ refreshTokenCookie: true, onSessionEnded });
}

/** A message for people from anything a call threw (or a `{code}` a failed transaction carries). */
export function errorText(error: unknown, t: I18n<MessageKey>['t']): string {
  if (error instanceof YunpayNetworkError || error instanceof YunpayTimeoutError) return t('error.network');
  const code =
    error instanceof YunpayApiError
      ? error.code
      : typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string'
        ? (error as { code: string }).code
        : null;
  if (code !== null) {
    const key = `error.${code}` as MessageKey;
    const details = error instanceof YunpayApiError ? error.details : null;
    const attempts = (details as { attempts_remaining?: number } | null)?.attempts_remaining;
    const text = t(key, { attempts: attempts ?? '?' });
    if (text !== key) return text;
    if (error instanceof YunpayApiError) return error.message;
  }
  return t('error.generic');
}

/** Whether a failure means the network is gone (offline codes then take over). */
export function isNetworkFailure(error: unknown): boolean {
  return error instanceof YunpayNetworkError || error instanceof YunpayTimeoutError;
}
