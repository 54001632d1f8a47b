import { useState, type FormEvent } from 'react';
import { YunpayApiError } from '@yunpay/sdk';
import { Alert, Field, PinField } from '../shared/ui.js';
import { LanguageSwitch } from './language.js';
import { deviceId, deviceName, errorText, type AppWalletClient } from './client.js';
import { useText } from './context.js';
import type { MessageKey } from './messages.js';

type FormField = 'name' | 'login' | 'password' | 'pin';

/** The form field each sign-up param belongs to (phone and email are both typed into "login"). */
const fieldOfParam: Readonly<Record<string, FormField>> = {
  name: 'name',
  phone: 'login',
  email: 'login',
  password: 'password',
  pin: 'pin',
};

/**
 * A sign-up refusal's field errors (error.details.fields), one message per form field, in the
 * language shown; null when the error is not about fields (login taken, network, rate limit).
 */
function fieldErrorsOf(error: unknown, t: ReturnType<typeof useText>['t']): Partial<Record<FormField, string>> | null {
  if (!(error instanceof YunpayApiError)) return null;
  const fields = (error.details as { fields?: unknown } | null)?.fields;
  if (!Array.isArray(fields) || fields.length === 0) return null;
  const shown: Partial<Record<FormField, string>> = {};
  for (const item of fields as { param?: unknown; code?: unknown; message?: unknown }[]) {
    const field = typeof item.param === 'string' ? fieldOfParam[item.param] : undefined;
    if (field === undefined || shown[field] !== undefined) continue;
    const key = `field.${String(item.code)}` as MessageKey;
    const text = t(key);
    shown[field] = text !== key ? text : typeof item.message === 'string' ? item.message : t('error.generic');
  }
  return Object.keys(shown).length === 0 ? null : shown;
}

/**
 * Sign in, or sign up. Sign-up is one request that creates the account with its PIN or nothing
 * (every invalid field is shown under its field at once); only then does the app sign in.
 */
export function AuthScreen(props: { client: AppWalletClient; onSignedIn: () => void }) {
  const { t } = useText();
  const [mode, setMode] = useState<'signIn' | 'signUp'>('signIn');
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const [name, setName] = useState('');
  const [pin, setPin] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [fieldErrors, setFieldErrors] = useState<Partial<Record<FormField, string>>>({});
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setFieldErrors({});
    try {
      const trimmed = login.trim();
      if (mode === 'signUp') {
        const isEmail = trimmed.includes('@');
        try {
          await props.client.signUp({
            ...(isEmail ? { email: trimmed } : { phone: trimmed }),
            password,
            name: name.trim(),
            pin,
          });
        } catch (caught) {
          const fields = fieldErrorsOf(caught, t);
          if (fields === null) throw caught;
          setFieldErrors(fields);
          return;
        }
      }
      await props.client.signIn({
        login: trimmed,
        password,
        device: { id: deviceId(), name: deviceName(), platform: 'web' },
      });
      props.onSignedIn();
    } catch (caught) {
      setError(errorText(caught, t));
    } finally {
      setBusy(false);
    }
  };

  const signUp = mode === 'signUp';
  return (
    <main className="auth" id="main">
      <div className="auth-top">
        <p className="brand" aria-hidden="true">
          ¥
        </p>
        <LanguageSwitch />
      </div>
      <h1>{signUp ? t('auth.signUpTitle') : t('auth.signInTitle')}</h1>
      <p className="muted">{t('auth.tagline')}</p>
      <form onSubmit={(event) => void submit(event)} className="card stack">
        {signUp ? (
          <Field
            label={t('auth.name')}
            name="name"
            autoComplete="name"
            required
            value={name}
            onChange={(e) => setName(e.target.value)}
            error={fieldErrors.name ?? null}
          />
        ) : null}
        <Field
          label={signUp ? t('auth.phone') : t('auth.login')}
          name="login"
          autoComplete="username"
          inputMode="email"
          required
          value={login}
          onChange={(e) => setLogin(e.target.value)}
          error={fieldErrors.login ?? null}
        />
        <Field
          label={t('common.password')}
          name="password"
          type="password"
          autoComplete={signUp ? 'new-password' : 'current-password'}
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={fieldErrors.password ?? null}
          {...(signUp ? { hint: t('auth.passwordHint') } : {})}
        />
        {signUp ? (
          <PinField label={t('common.pin')} value={pin} onChange={setPin} error={fieldErrors.pin ?? null} />
        ) : null}
        {error === null ? null : <Alert>{error}</Alert>}
        <button type="submit" className="primary" disabled={busy}>
          {signUp ? t('auth.signUp') : t('auth.signIn')}
        </button>
      </form>
      <button
        type="button"
        className="link"
        onClick={() => {
          setMode(signUp ? 'signIn' : 'signUp');
          setError(null);
          setFieldErrors({});
        }}
      >
        {signUp ? t('auth.toSignIn') : t('auth.toSignUp')}
      </button>
    </main>
  );
}
