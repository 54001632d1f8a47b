import type { ReactNode } from 'react';
import type { RecentRecipient, RecipientPreview } from '@yunpay/sdk';
import { Alert } from '../shared/ui.js';
import { errorText } from './client.js';
import { useLoad, useText, useWallet } from './context.js';

/**
 * The Send screen's recipients: the Recent list (people this wallet sent money to, newest first;
 * phones masked by the server) and the confirm step, which shows who the money goes to, masked as
 * Alipay does (*明, +86 138****0001), before the PIN is asked for.
 */
export function RecentRecipients(props: { onPick: (recipient: RecentRecipient) => void }) {
  const { t, dateTime } = useText();
  const { client, dataVersion } = useWallet();
  const recent = useLoad((signal) => client.recipients.recent({ signal }), [client, dataVersion]);
  const list = recent.value?.data ?? null;
  return (
    <section aria-labelledby="recent-title" className="card">
      <h2 id="recent-title">{t('send.recent')}</h2>
      {recent.loading && list === null ? <p>{t('common.loading')}</p> : null}
      {recent.error !== null ? <Alert>{errorText(recent.error, t)}</Alert> : null}
      {list !== null && list.length === 0 ? <p className="muted">{t('send.recentEmpty')}</p> : null}
      {list !== null && list.length > 0 ? (
        <ul className="recipients">
          {list.map((recipient) => (
            <li key={recipient.id}>
              <button type="button" className="recipient" onClick={() => props.onPick(recipient)}>
                <span className="recipient-name">{recipient.name}</span>
                {recipient.phone === null ? null : <span className="recipient-phone">{recipient.phone}</span>}
                <span className="recipient-when">
                  {t('send.recentLastSent', { date: dateTime(recipient.last_sent) })}
                </span>
              </button>
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}

/** Who the money goes to and how much, as the server masked it; children: the step's buttons or PIN. */
export function RecipientConfirm(props: {
  preview: RecipientPreview;
  amount: string;
  note: string;
  children: ReactNode;
}) {
  const { t } = useText();
  const { preview } = props;
  return (
    <section aria-labelledby="confirm-title" className="card stack">
      <h2 id="confirm-title">{t('send.confirmTitle')}</h2>
      <p className="muted">{t('send.confirmHint')}</p>
      <dl className="confirm-details">
        <dt>{t('send.recipientName')}</dt>
        <dd>{preview.name}</dd>
        {preview.phone === null ? null : (
          <>
            <dt>{t('send.recipientPhone')}</dt>
            <dd>{preview.phone}</dd>
          </>
        )}
        {preview.email === null ? null : (
          <>
            <dt>{t('send.recipientEmail')}</dt>
            <dd>{preview.email}</dd>
          </>
        )}
        <dt>{t('common.amount')}</dt>
        <dd className="preview-amount">{props.amount}</dd>
        {props.note === '' ? null : (
          <>
            <dt>{t('send.note')}</dt>
            <dd>{props.note}</dd>
          </>
        )}
      </dl>
      {props.children}
    </section>
  );
}
