import type { StaticQrCode } from '@yunpay/sdk';
import { useEffect, useState } from 'react';
import { useI18n } from './i18n.js';
import type { MerchantSessionInfo } from '@yunpay/sdk';
import { errorMessage, merchantClient } from './api.js';

/**
 * A base64 data URL as a blob: URL, so that the download links work under the page's CSP
 * (connect-src 'self' forbids fetching data: URLs; decoding them by hand needs no network).
 */
export function blobUrlOf(dataUrl: string): string {
  const match = /^data:([^;,]+);base64,(.*)$/.exec(dataUrl);
  if (match === null) throw new Error('not a base64 data URL');
  const binary = atob(match[2] ?? '');
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index += 1) bytes[index] = binary.charCodeAt(index);
  return URL.createObjectURL(new Blob([bytes], { type: match[1] }));
}

export function QrPage({ session }: { session: MerchantSessionInfo }) {
  const { t } = useI18n();
  const [qr, setQr] = useState<StaticQrCode | null>(null);
  const [links, setLinks] = useState<{ png: string; svg: string } | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let urls: { png: string; svg: string } | null = null;
    let cancelled = false;
    merchantClient()
      .qrCodes.retrieveStatic()
      .then(
        (loaded) => {
          if (cancelled) return;
          urls = { png: blobUrlOf(loaded.image_data_url), svg: blobUrlOf(loaded.image_url_svg) };
          setQr(loaded);
          setLinks(urls);
        },
        (failure: unknown) => setError(errorMessage(failure)),
      );
    return () => {
      cancelled = true;
      if (urls !== null) {
        URL.revokeObjectURL(urls.png);
        URL.revokeObjectURL(urls.svg);
      }
    };
  }, []);

  return (
    <section aria-labelledby="qr-title">
      <h2 id="qr-title">{t('qr.title')}</h2>
      <p className="hint">{t('qr.hint')}</p>
      {error !== null && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {qr === null || links === null ? (
        <p role="status">{t('loading')}</p>
      ) : (
        <div className="card qr-panel">
          <img
            className="qr-image"
            src={qr.image_data_url}
            alt={t('qr.alt', { name: session.account.name })}
            width={240}
            height={240}
          />
          <div className="actions">
            <a className="button primary" href={links.png} download="yunpay-counter-qr.png">
              {t('qr.png')}
            </a>
            <a className="button primary" href={links.svg} download="yunpay-counter-qr.svg">
              {t('qr.svg')}
            </a>
          </div>
        </div>
      )}
    </section>
  );
}
