import type { StaticQrCode } from '../types/v1.js';
import type { CallOptions, V1Requester } from './requester.js';

/** Merchant-presented QR codes. A payment intent's dynamic code comes as its next_action. */
export class QrCodes {
  constructor(private readonly v1: V1Requester) {}

  /** The merchant's reusable counter code (EMVCo payload and images); the payer types the amount. */
  retrieveStatic(options?: CallOptions): Promise<StaticQrCode> {
    return this.v1.get('/qr_codes/static', {}, options);
  }
}
