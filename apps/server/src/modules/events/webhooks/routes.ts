import {
  DeletedWebhookEndpointSchema,
  WebhookAttemptListSchema,
  WebhookDeliverySchema,
  WebhookEndpointListSchema,
  WebhookEndpointSchema,
} from './wire.js';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { limits } from '../../../platform/limits.js';
import {
  V1Boolean,
  V1Expand,
  V1Id,
  V1ListParams,
  V1Metadata,
  V1String,
  V1Unsettable,
  listResponse,
  pageRequestFrom,
  toUpdate,
  v1Scope,
  v1ErrorResponses,
} from '../../../v1/index.js';
import type { WebhookEndpointUpdateInput, Webhooks } from './service.js';

export interface WebhookRoutesOptions {
  webhooks: Webhooks;
}

// Stripe answers a refused endpoint URL with invalid_request_error code url_invalid.

const Url = V1String({ minLength: 1, maxLength: limits.webhookUrlLengthMax });
const EnabledEvents = Type.Array(V1String({ minLength: 1, maxLength: 100 }), {
  minItems: 1,
  maxItems: limits.webhookEnabledEventsMax,
});
const Description = V1String({ maxLength: 5_000 });

const CreateBody = Type.Object(
  {
    url: Url,
    enabled_events: EnabledEvents,
    description: Type.Optional(Description),
    metadata: Type.Optional(V1Metadata),
    expand: Type.Optional(V1Expand),
  },
  { additionalProperties: false },
);

const UpdateBody = Type.Object(
  {
    url: Type.Optional(Url),
    enabled_events: Type.Optional(EnabledEvents),
    disabled: Type.Optional(V1Boolean()),
    description: Type.Optional(V1Unsettable(Description)),
    metadata: Type.Optional(V1Metadata),
    expand: Type.Optional(V1Expand),
  },
  { additionalProperties: false },
);

const ResendBody = Type.Object({ event: V1Id(), expand: Type.Optional(V1Expand) }, { additionalProperties: false });

const IdParams = Type.Object({ id: V1Id() });
const ExpandQuery = Type.Object({ expand: Type.Optional(V1Expand) }, { additionalProperties: false });
const ListQuery = Type.Object({ ...V1ListParams }, { additionalProperties: false });

function updateInput(body: Static<typeof UpdateBody>): WebhookEndpointUpdateInput {
  const input: WebhookEndpointUpdateInput = {};
  const description = toUpdate(body.description);
  if (body.url !== undefined) input.url = body.url;
  if (body.enabled_events !== undefined) input.enabledEvents = body.enabled_events;
  if (body.disabled !== undefined) input.disabled = body.disabled;
  if (description !== undefined) input.description = description;
  if (body.metadata !== undefined) input.metadata = body.metadata;
  return input;
}

/**
 * /v1/webhook_endpoints: create, retrieve, update, delete, list; and our extensions
 * GET /v1/webhook_endpoints/{id}/attempts and POST /v1/webhook_endpoints/{id}/resend.
 */
export const webhookRoutes: FastifyPluginAsyncTypebox<WebhookRoutesOptions> = async (app, options) => {
  const { webhooks } = options;
  const v1 = { resource: 'webhook_endpoints', object: 'webhook_endpoint' };

  const one = { 200: WebhookEndpointSchema, ...v1ErrorResponses };
  app.post('/webhook_endpoints', { config: { v1 }, schema: { body: CreateBody, response: one } }, async (request) => {
    const body = request.body;
    const metadata = body.metadata === '' || body.metadata === null ? undefined : body.metadata;
    return webhooks.create(v1Scope(request), {
      url: body.url,
      enabledEvents: body.enabled_events,
      ...(body.description === undefined ? {} : { description: body.description }),
      ...(metadata === undefined ? {} : { metadata }),
    });
  });

  app.get(
    '/webhook_endpoints/:id',
    { config: { v1 }, schema: { params: IdParams, querystring: ExpandQuery, response: one } },
    async (request) => webhooks.retrieve(v1Scope(request), request.params.id),
  );

  app.post(
    '/webhook_endpoints/:id',
    { config: { v1 }, schema: { params: IdParams, body: UpdateBody, response: one } },
    async (request) => webhooks.update(v1Scope(request), request.params.id, updateInput(request.body)),
  );

  app.delete(
    '/webhook_endpoints/:id',
    {
      config: { v1: { resource: 'webhook_endpoints' } },
      schema: { params: IdParams, response: { 200: DeletedWebhookEndpointSchema, ...v1ErrorResponses } },
    },
    async (request) => webhooks.delete(v1Scope(request), request.params.id),
  );

  app.get(
    '/webhook_endpoints',
    {
      config: { v1: { ...v1, list: true } },
      schema: { querystring: ListQuery, response: { 200: WebhookEndpointListSchema, ...v1ErrorResponses } },
    },
    async (request) => {
      const page = await webhooks.list(v1Scope(request), { page: pageRequestFrom(request.query) });
      return listResponse({ data: page.data, hasMore: page.hasMore, url: '/v1/webhook_endpoints' });
    },
  );

  app.get(
    '/webhook_endpoints/:id/attempts',
    {
      config: { v1: { resource: 'webhook_endpoints', object: 'webhook_attempt', list: true } },
      schema: {
        params: IdParams,
        querystring: ListQuery,
        response: { 200: WebhookAttemptListSchema, ...v1ErrorResponses },
      },
    },
    async (request) => {
      const page = await webhooks.listAttempts(v1Scope(request), request.params.id, {
        page: pageRequestFrom(request.query),
      });
      return listResponse({
        data: page.data,
        hasMore: page.hasMore,
        url: `/v1/webhook_endpoints/${request.params.id}/attempts`,
      });
    },
  );

  app.post(
    '/webhook_endpoints/:id/resend',
    {
      config: { v1: { resource: 'webhook_endpoints', object: 'webhook_delivery' } },
      schema: { params: IdParams, body: ResendBody, response: { 200: WebhookDeliverySchema, ...v1ErrorResponses } },
    },
    async (request) => webhooks.resend(v1Scope(request), request.params.id, request.body.event),
  );
};
