import { useEffect, useRef, useState, type FormEvent } from 'react';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { Alert, Field, PinField } from '../shared/ui.js';
import { deviceNameShown, errorText } from './client.js';
import { useLoad, useText, useWallet } from './context.js';
import { LanguageSwitch } from './language.js';

export function SettingsScreen() {
  const { t, dateTime } = useText();
  const { client, me, signOut } = useWallet();
  const [version, setVersion] = useState(0);
  const devices = useLoad((signal) => client.devices.list({ signal }), [client, version]);
  const [pin, setPin] = useState('');
  const [password, setPassword] = useState('');
  const [pinResult, setPinResult] = useState<{ tone: 'error' | 'success'; text: string } | null>(null);
  const [deviceError, setDeviceError] = useState<string | null>(null);
  const pinForm = useRef<HTMLFormElement>(null);
  // Arriving from "Set a payment PIN first" (/settings#pin): straight to the PIN field.
  useEffect(() => {
    if (location.hash !== '#pin') return;
    pinForm.current?.scrollIntoView({ block: 'center' });
    pinForm.current?.querySelector<HTMLInputElement>('input[name="new-pin"]')?.focus();
  }, []);
  const phoneShown =
    me.phone === null ? null : (parsePhoneNumberFromString(me.phone)?.formatInternational() ?? me.phone);

  const savePin = async (event: FormEvent) => {
    event.preventDefault();
    setPinResult(null);
    try {
      await client.setPin({ pin, password });
      setPinResult({ tone: 'success', text: t('settings.pinSaved') });
      setPin('');
      setPassword('');
    } catch (caught) {
      setPinResult({ tone: 'error', text: errorText(caught, t) });
    }
  };

  const revoke = async (id: string) => {
    setDeviceError(null);
    try {
      await client.devices.revoke(id);
      setVersion((value) => value + 1);
    } catch (caught) {
      setDeviceError(errorText(caught, t));
    }
  };

  return (
    <>
      <h1>{t('settings.title')}</h1>
      <section className="card stack" aria-labelledby="account-title">
        <h2 id="account-title">{t('settings.account')}</h2>
        <p>
          {me.name}
          <br />
          <span className="muted">{phoneShown ?? me.email}</span>
        </p>
        <LanguageSwitch />
      </section>
      <section className="card stack" aria-labelledby="devices-title">
        <h2 id="devices-title">{t('settings.devices')}</h2>
        {devices.error === null ? null : <Alert>{errorText(devices.error, t)}</Alert>}
        <ul className="devices">
          {(devices.value?.data ?? []).map((device) => (
            <li key={device.id}>
              <span>
                {device.current
                  ? t('settings.currentDevice', { name: deviceNameShown(device.name, t) })
                  : deviceNameShown(device.name, t)}
                <br />
                <span className="muted">{t('settings.lastSeen', { time: dateTime(device.last_seen_at) })}</span>
              </span>
              {device.current ? null : (
                <button type="button" onClick={() => void revoke(device.id)}>
                  {t('settings.revoke', { name: deviceNameShown(device.name, t) })}
                </button>
              )}
            </li>
          ))}
        </ul>
        {deviceError === null ? null : <Alert>{deviceError}</Alert>}
      </section>
      <form
        id="pin"
        ref={pinForm}
        className="card stack"
        aria-labelledby="pin-title"
        onSubmit={(event) => void savePin(event)}
      >
        <h2 id="pin-title">{t('settings.pin')}</h2>
        <PinField label={t('settings.newPin')} name="new-pin" value={pin} onChange={setPin} />
        <Field
          label={t('common.password')}
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        {pinResult === null ? null : <Alert tone={pinResult.tone}>{pinResult.text}</Alert>}
        <button type="submit">{t('settings.savePin')}</button>
      </form>
      <button type="button" className="danger" onClick={() => void signOut()}>
        {t('settings.signOut')}
      </button>
    </>
  );
}
