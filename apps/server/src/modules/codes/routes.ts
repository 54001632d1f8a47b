import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { retryAfterOnError } from '../../platform/rate-limit.js';
import { principalOf, requireUser, type Identity } from '../identity/index.js';
import type { CodeService } from './service.js';
import { offlineTotp } from './totp.js';
import { errorResponses, NoQuerySchema } from '../../platform/http-schemas.js';

const PaymentCodeSchema = Type.Object(
  {
    code: Type.String({ pattern: '^88[0-9]{16}$', description: '"88" + 16 random digits; shown as a barcode or QR' }),
    object: Type.Literal('payment_code'),
    expires_at: Type.Integer({ description: 'Unix seconds; single use until then' }),
    mode: Type.Literal('online'),
  },
  { additionalProperties: false },
);

const OfflineKeySchema = Type.Object(
  {
    object: Type.Literal('offline_key'),
    device_id: Type.String(),
    device_number: Type.String({ pattern: '^[0-9]{8}$' }),
    secret: Type.String({ description: 'RFC 4648 base32 (no padding) of 32 random bytes; shown only now' }),
    algorithm: Type.Literal('HMAC-SHA256'),
    digits: Type.Literal(8),
    period_s: Type.Literal(30),
    t0: Type.Literal(0),
    format: Type.String({ description: '"89" + device_number + {totp}: the 18-digit code the phone shows' }),
    enrolled_at: Type.Integer({ description: 'Unix seconds' }),
    offline_limits: Type.Array(
      Type.Object(
        {
          currency: Type.String(),
          per_payment: Type.Integer({ description: 'Minor units' }),
          daily: Type.Integer({ description: 'Minor units, per device per UTC day' }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export interface CodeRoutesOptions {
  codes: CodeService;
  identity: Identity;
}

/** /wallet/v1 payment code routes: register with `{ prefix: '/wallet/v1', codes, identity }`. */
export const codeRoutes: FastifyPluginAsyncTypebox<CodeRoutesOptions> = async (app, options) => {
  const { codes } = options;
  const authenticated = requireUser(options.identity);
  app.addHook('onError', retryAfterOnError);

  app.post(
    '/payment_codes',
    {
      onRequest: authenticated,
      schema: {
        summary: 'Issue an online payment code (60 s, single use, bound to this device)',
        querystring: NoQuerySchema,
        response: { 201: PaymentCodeSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const issued = await codes.issueOnlineCode({ userId: principal.userId, deviceId: principal.deviceId });
      return reply.status(201).send({
        code: issued.code,
        object: 'payment_code' as const,
        expires_at: issued.expiresAt,
        mode: issued.mode,
      });
    },
  );

  app.post(
    '/devices/:id/offline_key',
    {
      onRequest: authenticated,
      schema: {
        summary: 'Enroll this device for offline codes (re-enrolling replaces the secret)',
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
        querystring: NoQuerySchema,
        response: { 200: OfflineKeySchema, ...errorResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const enrolled = await codes.enrollOfflineKey({
        userId: principal.userId,
        callerDeviceId: principal.deviceId,
        deviceId: request.params.id,
      });
      return {
        object: 'offline_key' as const,
        device_id: enrolled.deviceId,
        device_number: enrolled.deviceNumber,
        secret: enrolled.secret,
        algorithm: offlineTotp.algorithm,
        digits: offlineTotp.digits,
        period_s: offlineTotp.periodS,
        t0: offlineTotp.t0S,
        format: `89${enrolled.deviceNumber}{totp}`,
        enrolled_at: enrolled.enrolledAt,
        offline_limits: enrolled.caps.map((cap) => ({
          currency: cap.currency,
          per_payment: Number(cap.perPaymentMax),
          daily: Number(cap.dailyMax),
        })),
      };
    },
  );
};
