import { useId, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes } from 'react';

/** Small UI primitives shared by the web apps: every input has a label, every error is announced. */

export function Field(
  props: { label: string; hint?: string; error?: string | null } & InputHTMLAttributes<HTMLInputElement>,
) {
  const { label, hint, error, ...input } = props;
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const described = [hint === undefined ? null : hintId, error ? errorId : null].filter((x) => x !== null).join(' ');
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        {...input}
        aria-invalid={error ? true : undefined}
        aria-describedby={described === '' ? undefined : described}
      />
      {hint === undefined ? null : (
        <p className="hint" id={hintId}>
          {hint}
        </p>
      )}
      {error ? (
        <p className="field-error" id={errorId}>
          {error}
        </p>
      ) : null}
    </div>
  );
}

export function SelectField(props: { label: string; children: ReactNode } & SelectHTMLAttributes<HTMLSelectElement>) {
  const { label, children, ...select } = props;
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} {...select}>
        {children}
      </select>
    </div>
  );
}

/** An error message read out when it appears. */
export function Alert(props: { children: ReactNode; tone?: 'error' | 'success' | 'info' }) {
  const tone = props.tone ?? 'error';
  return (
    <div className={`alert alert-${tone}`} role={tone === 'error' ? 'alert' : 'status'}>
      {props.children}
    </div>
  );
}

/** A 6-digit PIN field: numeric keypad on phones, never autofilled. */
export function PinField(props: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  name?: string;
  error?: string | null;
}) {
  return (
    <Field
      label={props.label}
      error={props.error ?? null}
      name={props.name ?? 'pin'}
      type="password"
      inputMode="numeric"
      autoComplete="off"
      pattern="[0-9]{6}"
      maxLength={6}
      minLength={6}
      required
      value={props.value}
      onChange={(event) => props.onChange(event.target.value.replace(/\D/g, '').slice(0, 6))}
    />
  );
}
