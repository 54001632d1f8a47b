import { useState, type FormEvent } from 'react';
import { Alert, Field, PinField } from '../shared/ui.js';
import { LanguageSwitch } from './language.js';
import { deviceId, deviceName, errorText, type AppWalletClient } from './client.js';
import { useText } from './context.js';

/** Sign in, or sign up (then sign in and set the payment PIN in one go). */
export function AuthScreen(props: { client: AppWalletClient; onSignedIn: () => void }) {
  const { t } = useText();
  const [mode, setMode] = useState<'signIn' | 'signUp'>('signIn');
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const [name, setName] = useState('');
  const [pin, setPin] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const trimmed = login.trim();
      if (mode === 'signUp') {
        const isEmail = trimmed.includes('@');
        await props.client.signUp({
          ...(isEmail ? { email: trimmed } : { phone: trimmed }),
          password,
          name: name.trim(),
        });
      }
      await props.client.signIn({
        login: trimmed,
        password,
        device: { id: deviceId(), name: deviceName(), platform: 'web' },
      });
      if (mode === 'signUp') await props.client.setPin({ pin, password });
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
        />
        <Field
          label={t('common.password')}
          name="password"
          type="password"
          autoComplete={signUp ? 'new-password' : 'current-password'}
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          {...(signUp ? { hint: t('auth.passwordHint') } : {})}
        />
        {signUp ? <PinField label={t('common.pin')} value={pin} onChange={setPin} /> : null}
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
        }}
      >
        {signUp ? t('auth.toSignIn') : t('auth.toSignUp')}
      </button>
    </main>
  );
}
