import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { PaymentApproval } from '@yunpay/sdk';
import { Alert, PinField } from '../shared/ui.js';
import { errorText } from './client.js';
import { useText, useWallet } from './context.js';

/**
 * The approve-payment prompt: a code scanned at a till above the no-PIN threshold waits (60 s) for
 * the payer's PIN. Shown as a modal dialog whenever approvals are pending; `version` rises when a
 * payment.approval_requested notification arrives.
 */
export function ApprovalPrompt(props: { version: number }) {
  const { t, money } = useText();
  const { client, moneyMoved } = useWallet();
  const [pending, setPending] = useState<PaymentApproval[]>([]);
  const [dismissed, setDismissed] = useState<ReadonlySet<string>>(new Set());
  const [pin, setPin] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const dialog = useRef<HTMLDialogElement>(null);

  useEffect(() => {
    let active = true;
    client.paymentApprovals.list().then(
      (list) => {
        if (active) setPending(list.data.filter((approval) => approval.status === 'pending'));
      },
      () => undefined,
    );
    return () => {
      active = false;
    };
  }, [client, props.version]);

  const nowS = Date.now() / 1000;
  const current = pending.find((approval) => !dismissed.has(approval.id) && approval.expires_at > nowS) ?? null;

  useEffect(() => {
    const element = dialog.current;
    if (element === null) return;
    if (current !== null && !element.open) element.showModal();
    if (current === null && element.open) element.close();
  }, [current]);

  const approve = async (event: FormEvent) => {
    event.preventDefault();
    if (current === null) return;
    setBusy(true);
    setError(null);
    try {
      await client.paymentApprovals.approve(current.id, { pin });
      setPending((list) => list.filter((approval) => approval.id !== current.id));
      moneyMoved();
    } catch (caught) {
      setError(errorText(caught, t));
    } finally {
      setPin('');
      setBusy(false);
    }
  };

  const dismiss = () => {
    if (current !== null) setDismissed((set) => new Set([...set, current.id]));
    setError(null);
  };

  return (
    <dialog ref={dialog} className="approval" aria-labelledby="approval-title" onCancel={dismiss}>
      {current === null ? null : (
        <form className="stack" onSubmit={(event) => void approve(event)}>
          <h2 id="approval-title">{t('approve.title')}</h2>
          <p>
            {t('approve.body', { merchant: current.merchant.name, amount: money(current.amount, current.currency) })}
          </p>
          {current.livemode === false ? <Alert tone="info">{t('scan.testPreview')}</Alert> : null}
          <PinField label={t('common.pin')} name="approval-pin" value={pin} onChange={setPin} />
          {error === null ? null : <Alert>{error}</Alert>}
          <button type="submit" className="primary" disabled={busy}>
            {t('approve.submit')}
          </button>
          <button type="button" onClick={dismiss}>
            {t('approve.decline')}
          </button>
        </form>
      )}
    </dialog>
  );
}
