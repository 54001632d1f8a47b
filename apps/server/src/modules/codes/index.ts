/**
 * Codes: consumer-presented payment codes (online "88…" and offline "89…" TOTP codes) and the
 * EMVCo merchant-presented QR payload. Other contexts import only from here.
 */
export { codesMigrations } from './schema.js';
export {
  createCodeService,
  revokeCodesOfDevice,
  validateCodeFormat,
  type CodeFormat,
  type CodeMode,
  type CodeService,
  type CodeServiceDeps,
  type CodesIdentity,
  type OfflineKeyEnrollment,
  type OnlineCode,
  type RedeemOptions,
  type Redemption,
} from './service.js';
export { defaultOfflineCaps, parseOfflineCaps, type OfflineCap, type OfflineCapsTable } from './caps.js';
export {
  checkCodesLimits,
  crc16CcittFalse,
  emvLimits,
  emvText,
  encodeMerchantQr,
  formatEmvAmount,
  parseEmvAmount,
  parseMerchantQr,
  yunpayMerchantTemplateId,
  yunpayQrGuid,
  type MerchantQr,
  type MerchantQrInput,
} from './emvco.js';
export { qrImages, type QrImages } from './images.js';
export { base32Decode, base32Encode, hotpSha256, offlineCode, offlineTotp, totpStep } from './totp.js';
export { codeRoutes, type CodeRoutesOptions } from './routes.js';
export { createCodesContext, type CodesContext } from './context.js';
