import { useRef } from 'react';
import { YunpayApiError, newIdempotencyKey } from '@yunpay/sdk';
import { Alert } from '../shared/ui.js';
import { errorText } from './client.js';
import { useText, useWallet } from './context.js';

/** What a money screen says after a submit: the text, and the error code when it failed. */
export interface Outcome {
  tone: 'error' | 'success';
  text: string;
  code: string | null;
}

/** An Outcome for something a call threw (or a failed transaction's `{code}`). */
export function failureOutcome(error: unknown, t: ReturnType<typeof useText>['t']): Outcome {
  const code =
    typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string'
      ? (error as { code: string }).code
      : null;
  return { tone: 'error', text: errorText(error, t), code };
}

/**
 * The answer of a money screen, once (as a banner under the form). An error that has a fix
 * elsewhere links there: pin_not_set to the PIN form in Settings.
 */
export function OutcomeAlert(props: { outcome: Outcome }) {
  const { t } = useText();
  const { navigate } = useWallet();
  const { outcome } = props;
  return (
    <Alert tone={outcome.tone}>
      {outcome.text}
      {outcome.code === 'pin_not_set' ? (
        <>
          {' '}
          <a
            href="/app/settings#pin"
            onClick={(event) => {
              event.preventDefault();
              navigate('/settings#pin');
            }}
          >
            {t('error.pinNotSetAction')}
          </a>
        </>
      ) : null}
    </Alert>
  );
}

/**
 * One Idempotency-Key per intent (what the person asked for: this amount, from this card, to this
 * person). Sending the same intent again after an answer was lost reuses the key, so money moves
 * at most once; another intent, or a new attempt after a definitive answer (a decline, a success,
 * a refusal), gets a new key, so the server never sees one key with two different requests.
 */
export function useIntentKey() {
  const held = useRef<{ key: string; intent: string } | null>(null);
  return {
    keyFor(intent: string): string {
      if (held.current === null || held.current.intent !== intent) {
        held.current = { key: newIdempotencyKey(), intent };
      }
      return held.current.key;
    },
    /** After an answer or an error: keeps the key only while the outcome is unknown. */
    answered(error: unknown = null): void {
      if (error === null || isDefinitive(error)) held.current = null;
    },
  };
}

/** Whether an error is the server's final word (not a lost answer, a timeout or "still in progress"). */
function isDefinitive(error: unknown): boolean {
  if (!(error instanceof YunpayApiError)) return false;
  return (
    error.status !== null &&
    error.status < 500 &&
    error.code !== 'idempotency_key_in_use' &&
    error.code !== 'rate_limited'
  );
}
