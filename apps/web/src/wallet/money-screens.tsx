import { useState, type FormEvent } from 'react';
import type { RecentRecipient, RecipientPreview, WalletBalance, WalletCard } from '@yunpay/sdk';
import { amountPlaceholder, parseMoney } from '../shared/money.js';
import { Alert, Field, PinField, SelectField } from '../shared/ui.js';
import { SavedCards } from './cards.js';
import { errorText } from './client.js';
import { useLoad, useText, useWallet } from './context.js';
import type { MessageKey } from './messages.js';
import { OutcomeAlert, failureOutcome, useIntentKey, type Outcome } from './outcome.js';
import { RecentRecipients, RecipientConfirm } from './recipients.js';

const defaultCurrencies = ['CNY', 'HKD', 'USD', 'EUR', 'JPY', 'KWD'];

function useBalances() {
  const { client, dataVersion } = useWallet();
  return useLoad((signal) => client.balances({ signal }), [client, dataVersion]);
}

export function HomeScreen() {
  const { t, money, currency } = useText();
  const { me, navigate } = useWallet();
  const balances = useBalances();
  const shown = (balances.value ?? []).filter((balance) => balance.available !== 0 || balance.pending !== 0);
  return (
    <>
      <h1>{t('home.greeting', { name: me.name })}</h1>
      <section aria-labelledby="balances-title" className="card">
        <h2 id="balances-title">{t('home.title')}</h2>
        {balances.loading && balances.value === null ? <p>{t('common.loading')}</p> : null}
        {balances.error !== null ? <Alert>{errorText(balances.error, t)}</Alert> : null}
        {balances.value !== null && shown.length === 0 ? <p className="muted">{t('home.empty')}</p> : null}
        <ul className="balances">
          {shown.map((balance) => (
            <li key={balance.currency} className="balance" data-currency={balance.currency}>
              <span className="balance-label">
                {t('home.available')} · {currency(balance.currency)}
              </span>
              <span className="balance-amount">{money(balance.available, balance.currency)}</span>
              {balance.pending > 0 ? (
                <span className="muted">{t('home.pending', { amount: money(balance.pending, balance.currency) })}</span>
              ) : null}
            </li>
          ))}
        </ul>
      </section>
      <nav aria-label={t('home.title')} className="actions">
        <button type="button" onClick={() => navigate('/topup')}>
          {t('home.topUp')}
        </button>
        <button type="button" onClick={() => navigate('/send')}>
          {t('home.send')}
        </button>
        <button type="button" onClick={() => navigate('/pay')}>
          {t('home.pay')}
        </button>
        <button type="button" onClick={() => navigate('/scan')}>
          {t('home.scan')}
        </button>
      </nav>
    </>
  );
}

function currencyOptions(balances: WalletBalance[] | null): string[] {
  const held = (balances ?? []).map((balance) => balance.currency);
  return held.length === 0 ? defaultCurrencies : held;
}

function amountError(text: string, currency: string, t: (key: MessageKey) => string): string | null {
  if (text.trim() === '') return null;
  const parsed = parseMoney(text, currency);
  return parsed.ok ? null : t(`error.${parsed.code}` as MessageKey);
}

export function TopUpScreen() {
  const { t, money, currency: currencyLabel } = useText();
  const { client, moneyMoved } = useWallet();
  const balances = useBalances();
  const [cardsVersion, setCardsVersion] = useState(0);
  const cards = useLoad((signal) => client.cards.list({ signal }).catch(() => []), [client, cardsVersion]);
  const [currency, setCurrency] = useState('CNY');
  const [amount, setAmount] = useState('');
  const [source, setSource] = useState('tok_visa');
  const cardSaved = (card: WalletCard) => {
    setCardsVersion((version) => version + 1);
    setSource(card.id);
  };
  const cardRemoved = (card: WalletCard) => {
    setCardsVersion((version) => version + 1);
    setSource((current) => (current === card.id ? 'tok_visa' : current));
  };
  const intentKey = useIntentKey();
  const [result, setResult] = useState<Outcome | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const parsed = parseMoney(amount, currency);
    // The amount field already says what is wrong with it: no second copy in a banner.
    if (!parsed.ok) return setResult(null);
    setBusy(true);
    setResult(null);
    const request = { amount: parsed.amountMinor, currency, source };
    try {
      const done = await client.topups.create(request, {
        idempotencyKey: intentKey.keyFor(JSON.stringify(request)),
      });
      intentKey.answered();
      if (done.status === 'failed') setResult(failureOutcome({ code: done.failure_code }, t));
      else {
        setResult({
          tone: 'success',
          text: t('topup.done', { amount: money(done.amount, done.currency) }),
          code: null,
        });
        setAmount('');
      }
      moneyMoved();
    } catch (caught) {
      intentKey.answered(caught);
      setResult(failureOutcome(caught, t));
      // A decline is recorded in the history: show it there too.
      moneyMoved();
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <h1>{t('topup.title')}</h1>
      <form className="card stack" onSubmit={(event) => void submit(event)}>
        <SelectField
          label={t('common.currency')}
          name="currency"
          value={currency}
          onChange={(e) => setCurrency(e.target.value)}
        >
          {currencyOptions(balances.value).map((code) => (
            <option key={code} value={code}>
              {currencyLabel(code)}
            </option>
          ))}
        </SelectField>
        <Field
          label={t('common.amount')}
          name="amount"
          inputMode="decimal"
          autoComplete="off"
          placeholder={amountPlaceholder(currency)}
          required
          value={amount}
          onChange={(e) => setAmount(e.target.value)}
          error={amountError(amount, currency, t)}
        />
        <SelectField label={t('topup.source')} name="source" value={source} onChange={(e) => setSource(e.target.value)}>
          {(cards.value ?? []).map((card) => (
            <option key={card.id} value={card.id}>
              {t('topup.savedCard', { brand: card.brand, last4: card.last4 })}
            </option>
          ))}
          <option value="tok_visa">{t('topup.testVisa')}</option>
          <option value="tok_mastercard">{t('topup.testMastercard')}</option>
          <option value="tok_chargeDeclined">{t('topup.testDeclined')}</option>
        </SelectField>
        {result === null ? null : <OutcomeAlert outcome={result} />}
        <button type="submit" className="primary" disabled={busy}>
          {t('topup.submit')}
        </button>
      </form>
      <SavedCards cards={cards.value} onSaved={cardSaved} onRemoved={cardRemoved} />
    </>
  );
}

/** Who the money goes to: typed (a phone or an email) or picked from Recent (an rcp_ id). */
type SendRecipient = { kind: 'typed' } | { kind: 'recent'; recipient: RecentRecipient };

/** The parts of a send that the confirm step shows and the PIN step sends, fixed at "Next". */
interface SendIntent {
  to: string;
  amount: number;
  currency: string;
  note: string;
  preview: RecipientPreview;
}

/**
 * Send money, in three steps, as Alipay and WeChat Pay do: who and how much (typed, or picked from
 * Recent), then a confirm step with the recipient's masked name and phone as the server answers
 * them, then the PIN. Going back from the confirm or PIN step changes nothing on the server.
 */
export function SendScreen() {
  const { t, money, currency: currencyLabel } = useText();
  const { client, moneyMoved } = useWallet();
  const balances = useBalances();
  const [recipient, setRecipient] = useState<SendRecipient>({ kind: 'typed' });
  const [to, setTo] = useState('');
  const [currency, setCurrency] = useState('CNY');
  const [amount, setAmount] = useState('');
  const [note, setNote] = useState('');
  const [pin, setPin] = useState('');
  const [intent, setIntent] = useState<SendIntent | null>(null);
  const [step, setStep] = useState<'edit' | 'confirm' | 'pin'>('edit');
  const intentKey = useIntentKey();
  const [result, setResult] = useState<Outcome | null>(null);
  const [busy, setBusy] = useState(false);

  const pick = (picked: RecentRecipient) => {
    setRecipient({ kind: 'recent', recipient: picked });
    setResult(null);
  };

  const back = () => {
    setStep('edit');
    setIntent(null);
    setPin('');
    setResult(null);
  };

  /** Step 1 → 2: the server says who `to` is (masked), or why it is nobody. */
  const next = async (event: FormEvent) => {
    event.preventDefault();
    const parsed = parseMoney(amount, currency);
    // The amount field already says what is wrong with it: no second copy in a banner.
    if (!parsed.ok) return setResult(null);
    const target = recipient.kind === 'recent' ? recipient.recipient.id : to.trim();
    setBusy(true);
    setResult(null);
    try {
      const preview = await client.recipients.lookup({ to: target });
      setIntent({ to: target, amount: parsed.amountMinor, currency, note: note.trim(), preview });
      setStep('confirm');
    } catch (caught) {
      setResult(failureOutcome(caught, t));
    } finally {
      setBusy(false);
    }
  };

  /** Step 3: the transfer, with the PIN and one Idempotency-Key per intent. */
  const send = async (event: FormEvent) => {
    event.preventDefault();
    if (intent === null) return;
    setBusy(true);
    setResult(null);
    const { preview: _preview, ...request } = intent;
    try {
      const sent = await client.transfers.create(
        {
          to: request.to,
          amount: request.amount,
          currency: request.currency,
          pin,
          ...(request.note === '' ? {} : { note: request.note }),
        },
        { idempotencyKey: intentKey.keyFor(JSON.stringify(request)) },
      );
      intentKey.answered();
      setPin('');
      if (sent.status === 'failed') {
        setResult(failureOutcome({ code: sent.failure_code }, t));
      } else {
        setResult({
          tone: 'success',
          text: t('send.done', {
            amount: money(sent.amount, sent.currency),
            name: sent.counterparty?.name ?? intent.preview.name,
          }),
          code: null,
        });
        setRecipient({ kind: 'typed' });
        setTo('');
        setAmount('');
        setNote('');
        setIntent(null);
        setStep('edit');
      }
      moneyMoved();
    } catch (caught) {
      intentKey.answered(caught);
      setResult(failureOutcome(caught, t));
      setPin('');
    } finally {
      setBusy(false);
    }
  };

  if (intent !== null && step !== 'edit') {
    return (
      <>
        <h1>{t('send.title')}</h1>
        <RecipientConfirm preview={intent.preview} amount={money(intent.amount, intent.currency)} note={intent.note}>
          {step === 'confirm' ? (
            <div className="actions">
              <button type="button" onClick={back}>
                {t('common.back')}
              </button>
              <button type="button" className="primary" onClick={() => setStep('pin')}>
                {t('send.confirm')}
              </button>
            </div>
          ) : (
            <form className="stack" onSubmit={(event) => void send(event)}>
              <PinField label={t('common.pin')} value={pin} onChange={setPin} />
              {result === null ? null : <OutcomeAlert outcome={result} />}
              <div className="actions">
                <button type="button" onClick={back} disabled={busy}>
                  {t('common.back')}
                </button>
                <button type="submit" className="primary" disabled={busy}>
                  {t('send.submit')}
                </button>
              </div>
            </form>
          )}
        </RecipientConfirm>
      </>
    );
  }

  return (
    <>
      <h1>{t('send.title')}</h1>
      <form className="card stack" onSubmit={(event) => void next(event)}>
        {recipient.kind === 'recent' ? (
          <div className="chosen-recipient">
            <span>
              <span className="recipient-name">{recipient.recipient.name}</span>
              {recipient.recipient.phone === null ? null : (
                <span className="recipient-phone">{recipient.recipient.phone}</span>
              )}
            </span>
            <button type="button" className="link" onClick={() => setRecipient({ kind: 'typed' })}>
              {t('send.changeRecipient')}
            </button>
          </div>
        ) : (
          <Field
            label={t('send.to')}
            name="to"
            autoComplete="off"
            inputMode="email"
            required
            value={to}
            onChange={(e) => setTo(e.target.value)}
          />
        )}
        <SelectField
          label={t('common.currency')}
          name="currency"
          value={currency}
          onChange={(e) => setCurrency(e.target.value)}
        >
          {currencyOptions(balances.value).map((code) => (
            <option key={code} value={code}>
              {currencyLabel(code)}
            </option>
          ))}
        </SelectField>
        <Field
          label={t('common.amount')}
          name="amount"
          inputMode="decimal"
          autoComplete="off"
          placeholder={amountPlaceholder(currency)}
          required
          value={amount}
          onChange={(e) => setAmount(e.target.value)}
          error={amountError(amount, currency, t)}
        />
        <Field
          label={t('send.note')}
          name="note"
          maxLength={140}
          value={note}
          onChange={(e) => setNote(e.target.value)}
        />
        {result === null ? null : <OutcomeAlert outcome={result} />}
        <button type="submit" className="primary" disabled={busy}>
          {t('send.next')}
        </button>
      </form>
      <RecentRecipients onPick={pick} />
    </>
  );
}
