import { useState, type FormEvent } from 'react';
import type { WalletCard } from '@yunpay/sdk';
import { Alert, Field, SelectField } from '../shared/ui.js';
import { errorText } from './client.js';
import { useText, useWallet } from './context.js';

/** Years offered for the expiry: this one and the next 20 (cards are issued for at most ~10). */
const expiryYearsAhead = 20;
const months = Array.from({ length: 12 }, (_, index) => index + 1);

function twoDigits(value: number): string {
  return String(value).padStart(2, '0');
}

/**
 * The saved cards on the Top-up screen: list, remove, and add one. The card number and CVC are
 * read from the form only when it is sent (uncontrolled inputs: no React state, no storage ever
 * holds them) and the inputs are cleared as soon as the request is over, whatever its outcome.
 */
export function SavedCards(props: {
  cards: WalletCard[] | null;
  onSaved: (card: WalletCard) => void;
  onRemoved: (card: WalletCard) => void;
}) {
  const { t } = useText();
  const { client } = useWallet();
  const [result, setResult] = useState<{ tone: 'error' | 'success'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [removing, setRemoving] = useState<string | null>(null);
  const thisYear = new Date().getFullYear();
  const years = Array.from({ length: expiryYearsAhead + 1 }, (_, index) => thisYear + index);

  const save = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const fields = form.elements;
    const numberInput = fields.namedItem('card-number') as HTMLInputElement;
    const cvcInput = fields.namedItem('card-cvc') as HTMLInputElement;
    const read = (name: string) => (fields.namedItem(name) as HTMLInputElement | HTMLSelectElement).value.trim();
    const name = read('card-name');
    setBusy(true);
    setResult(null);
    try {
      const card = await client.cards.save({
        number: numberInput.value.replace(/[\s-]/g, ''),
        exp_month: Number(read('card-exp-month')),
        exp_year: Number(read('card-exp-year')),
        cvc: cvcInput.value.trim(),
        ...(name === '' ? {} : { name }),
      });
      form.reset();
      setResult({ tone: 'success', text: t('cards.saved', { brand: card.brand, last4: card.last4 }) });
      props.onSaved(card);
    } catch (caught) {
      setResult({ tone: 'error', text: errorText(caught, t) });
    } finally {
      // Whatever happened, the number and CVC leave the page with the request.
      numberInput.value = '';
      cvcInput.value = '';
      setBusy(false);
    }
  };

  const remove = async (card: WalletCard) => {
    setRemoving(card.id);
    setResult(null);
    try {
      await client.cards.remove(card.id);
      setResult({ tone: 'success', text: t('cards.removed', { brand: card.brand, last4: card.last4 }) });
      props.onRemoved(card);
    } catch (caught) {
      setResult({ tone: 'error', text: errorText(caught, t) });
    } finally {
      setRemoving(null);
    }
  };

  return (
    <>
      <section className="card stack" aria-labelledby="cards-title">
        <h2 id="cards-title">{t('cards.title')}</h2>
        {props.cards === null ? <p>{t('common.loading')}</p> : null}
        {props.cards !== null && props.cards.length === 0 ? <p className="muted">{t('cards.empty')}</p> : null}
        {props.cards === null || props.cards.length === 0 ? null : (
          <ul className="saved-cards">
            {props.cards.map((card) => (
              <li key={card.id} className="saved-card" data-card={card.id}>
                <span className="saved-card-what">
                  <span>{t('topup.savedCard', { brand: card.brand, last4: card.last4 })}</span>
                  <span className="muted">
                    {t('cards.expires', { month: twoDigits(card.exp_month), year: card.exp_year })}
                  </span>
                </span>
                <button
                  type="button"
                  disabled={removing !== null}
                  aria-label={t('cards.remove', { brand: card.brand, last4: card.last4 })}
                  onClick={() => void remove(card)}
                >
                  {t('cards.removeShort')}
                </button>
              </li>
            ))}
          </ul>
        )}
        {result === null ? null : <Alert tone={result.tone}>{result.text}</Alert>}
      </section>
      <form className="card stack" aria-labelledby="card-add-title" onSubmit={(event) => void save(event)}>
        <h2 id="card-add-title">{t('cards.addTitle')}</h2>
        <Field
          label={t('cards.number')}
          name="card-number"
          inputMode="numeric"
          autoComplete="cc-number"
          pattern="[0-9 \-]{12,23}"
          maxLength={23}
          required
          hint={t('cards.numberHint')}
        />
        <div className="expiry">
          <SelectField label={t('cards.expMonth')} name="card-exp-month" autoComplete="cc-exp-month" required>
            {months.map((month) => (
              <option key={month} value={month}>
                {twoDigits(month)}
              </option>
            ))}
          </SelectField>
          <SelectField label={t('cards.expYear')} name="card-exp-year" autoComplete="cc-exp-year" required>
            {years.map((year) => (
              <option key={year} value={year}>
                {year}
              </option>
            ))}
          </SelectField>
        </div>
        <Field
          label={t('cards.cvc')}
          name="card-cvc"
          type="password"
          inputMode="numeric"
          autoComplete="cc-csc"
          pattern="[0-9]{3,4}"
          maxLength={4}
          required
        />
        <Field label={t('cards.name')} name="card-name" autoComplete="cc-name" maxLength={100} />
        <button type="submit" className="primary" disabled={busy}>
          {t('cards.save')}
        </button>
      </form>
    </>
  );
}
