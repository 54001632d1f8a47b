import QRCode from 'qrcode';
import { assert } from '../../platform/errors.js';
import { limits } from '../../platform/limits.js';

export interface QrImages {
  /** data:image/png;base64,… */
  image_data_url: string;
  /** data:image/svg+xml;base64,… (a data URL, not SVG markup). */
  image_url_svg: string;
}

/**
 * Renders a QR payload as a PNG and an SVG, both as data URLs, with error correction level M and
 * the 4-module quiet zone the QR standard asks for.
 */
export async function qrImages(payload: string): Promise<QrImages> {
  assert(payload.length >= 1 && payload.length <= limits.codesQrPayloadLengthMax, 'a QR payload is 1–512 characters');
  const options = { errorCorrectionLevel: 'M', margin: 4 } as const;
  const png = await QRCode.toDataURL(payload, { ...options, type: 'image/png', scale: limits.codesQrImageScale });
  const svg = await QRCode.toString(payload, { ...options, type: 'svg' });
  assert(png.startsWith('data:image/png;base64,'), 'qrcode returns a PNG data URL');
  return {
    image_data_url: png,
    image_url_svg: `data:image/svg+xml;base64,${Buffer.from(svg, 'utf8').toString('base64')}`,
  };
}
