import jsqrModule from 'jsqr';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { encodeMerchantQr, parseMerchantQr, qrImages } from '../../src/modules/codes/index.js';

// jsqr is CommonJS with an ES-style default export: Node hands over module.exports, bundlers the function.
const jsQR = ((jsqrModule as unknown as { default?: unknown }).default ?? jsqrModule) as typeof jsqrModule.default;

function decodePng(dataUrl: string): string | null {
  const prefix = 'data:image/png;base64,';
  expect(dataUrl.startsWith(prefix)).toBe(true);
  const png = PNG.sync.read(Buffer.from(dataUrl.slice(prefix.length), 'base64'));
  return jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data ?? null;
}

describe('QR images', () => {
  it('the PNG decodes back to the EMV payload, and the SVG is a data URL of an SVG', async () => {
    const payload = encodeMerchantQr({
      merchantAccountId: 'acct_1Yunpay0Demo',
      merchantName: 'Lucky Noodles',
      city: 'Shanghai',
      mcc: '5812',
      currencyNumeric: '156',
      countryCode: 'CN',
      amountMinor: 10_000n,
      exponent: 2,
      paymentIntentId: 'pi_3Nz7Yunpay0Demo0001',
      dynamic: true,
    });
    const images = await qrImages(payload);
    const decoded = decodePng(images.image_data_url);
    expect(decoded).toBe(payload);
    expect(parseMerchantQr(decoded!).amountMinor).toBe(10_000n);

    const svgPrefix = 'data:image/svg+xml;base64,';
    expect(images.image_url_svg.startsWith(svgPrefix)).toBe(true);
    const svg = Buffer.from(images.image_url_svg.slice(svgPrefix.length), 'base64').toString('utf8');
    expect(svg).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain('<path');
  });

  it('a consumer payment code renders and decodes too', async () => {
    const images = await qrImages('891234567883594141');
    expect(decodePng(images.image_data_url)).toBe('891234567883594141');
  });
});
