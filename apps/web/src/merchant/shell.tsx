import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { LanguageSwitch, useI18n, type MessageKey } from './i18n.js';
import type { MerchantSessionInfo } from '@yunpay/sdk';
import { errorMessage, merchantSession } from './api.js';
import { SignUpForm } from './sign-up.js';

/** Sign-in, header (merchant, mode, language, sign-out) and the signed-in app below. */
export function MerchantShell({
  titleKey,
  children,
}: {
  titleKey: MessageKey;
  children: (session: MerchantSessionInfo) => ReactNode;
}) {
  const { t } = useI18n();
  const [session, setSession] = useState<MerchantSessionInfo | null | undefined>(undefined);
  const [loadError, setLoadError] = useState<string | null>(null);

  useEffect(() => {
    document.title = t(titleKey);
  }, [t, titleKey]);

  useEffect(() => {
    merchantSession()
      .resume()
      .then(setSession, (error: unknown) => {
        setLoadError(errorMessage(error));
        setSession(null);
      });
  }, []);

  return (
    <>
      <header className="topbar">
        <h1 className="brand">{t(titleKey)}</h1>
        <div className="topbar-tools">
          {session !== null && session !== undefined && (
            <>
              <span className="account-name">{session.account.name}</span>
              <span className={session.livemode ? 'mode mode-live' : 'mode mode-test'}>
                {t(session.livemode ? 'mode.live' : 'mode.test')}
              </span>
            </>
          )}
          <LanguageSwitch />
          {session !== null && session !== undefined && (
            <button
              type="button"
              className="button secondary"
              onClick={() => {
                void merchantSession()
                  .signOut()
                  .finally(() => setSession(null));
              }}
            >
              {t('signout')}
            </button>
          )}
        </div>
      </header>
      {session === undefined ? (
        <main className="page">
          <p role="status">{t('loading')}</p>
        </main>
      ) : session === null ? (
        <SignInForm onSignedIn={setSession} initialError={loadError} />
      ) : (
        children(session)
      )}
    </>
  );
}

function SignInForm({
  onSignedIn,
  initialError,
}: {
  onSignedIn: (session: MerchantSessionInfo) => void;
  initialError: string | null;
}) {
  const { t } = useI18n();
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(initialError);
  const [signingUp, setSigningUp] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const session = await merchantSession().signIn(key.trim());
      setKey('');
      onSignedIn(session);
    } catch (failure) {
      setError(`${t('signin.failed')}: ${errorMessage(failure)}`);
    } finally {
      setBusy(false);
    }
  }

  if (signingUp) return <SignUpForm onSignedIn={onSignedIn} onCancel={() => setSigningUp(false)} />;

  return (
    <main className="page narrow">
      <form className="card" onSubmit={(event) => void submit(event)} aria-labelledby="signin-title">
        <h2 id="signin-title">{t('signin.title')}</h2>
        <label htmlFor="secret-key">{t('signin.key')}</label>
        <input
          id="secret-key"
          name="secret-key"
          type="password"
          autoComplete="off"
          spellCheck={false}
          required
          value={key}
          onChange={(event) => setKey(event.target.value)}
          aria-describedby="secret-key-hint"
        />
        <p id="secret-key-hint" className="hint">
          {t('signin.hint')}
        </p>
        <button type="submit" className="button primary" disabled={busy}>
          {t('signin.submit')}
        </button>
        {error !== null && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <button type="button" className="button link" onClick={() => setSigningUp(true)}>
          {t('signup.open')}
        </button>
      </form>
    </main>
  );
}
