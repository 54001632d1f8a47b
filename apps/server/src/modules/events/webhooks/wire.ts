import { Type, type TSchema } from 'typebox';
import type { Metadata } from '../../../v1/index.js';
import type { AttemptRow, EndpointRow } from './repository.js';

/** Stripe's webhook_endpoint object; `secret` only in the create response. */
export interface WebhookEndpointWire {
  id: string;
  object: 'webhook_endpoint';
  api_version: null;
  application: null;
  created: number;
  description: string | null;
  enabled_events: string[];
  livemode: boolean;
  metadata: Metadata;
  secret?: string;
  status: 'enabled' | 'disabled';
  url: string;
}

export interface DeletedWebhookEndpointWire {
  id: string;
  object: 'webhook_endpoint';
  deleted: true;
}

/** One POST to an endpoint (our extension). */
export interface WebhookAttemptWire {
  id: string;
  object: 'webhook_attempt';
  attempt: number;
  created: number;
  duration_ms: number;
  endpoint: string;
  error: string | null;
  event: string;
  livemode: boolean;
  response_body_excerpt: string;
  status_code: number | null;
}

/** The queued delivery a resend made (our extension). */
export interface WebhookDeliveryWire {
  object: 'webhook_delivery';
  endpoint: string;
  event: string;
  livemode: boolean;
  next_attempt: number;
  status: 'pending';
}

export function endpointWire(row: EndpointRow): WebhookEndpointWire {
  return {
    id: row.id,
    object: 'webhook_endpoint',
    api_version: null,
    application: null,
    created: Math.floor(row.created_at.getTime() / 1000),
    description: row.description,
    enabled_events: row.enabled_events,
    livemode: row.livemode,
    metadata: row.metadata,
    status: row.status,
    url: row.url,
  };
}

export function attemptWire(row: AttemptRow): WebhookAttemptWire {
  return {
    id: row.id,
    object: 'webhook_attempt',
    attempt: row.attempt_number,
    created: Math.floor(row.created_at.getTime() / 1000),
    duration_ms: row.duration_ms,
    endpoint: row.endpoint_id,
    error: row.error,
    event: row.event_id,
    livemode: row.livemode,
    response_body_excerpt: row.response_excerpt,
    status_code: row.status_code,
  };
}

// --- response schemas (a field not listed is not serialised) ---------------------------------

const NullableString = Type.Union([Type.String(), Type.Null()]);
const listOf = <T extends TSchema>(item: T) =>
  Type.Object({ object: Type.Literal('list'), data: Type.Array(item), has_more: Type.Boolean(), url: Type.String() });

export const WebhookEndpointSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('webhook_endpoint'),
  api_version: Type.Null(),
  application: Type.Null(),
  created: Type.Integer(),
  description: NullableString,
  enabled_events: Type.Array(Type.String()),
  livemode: Type.Boolean(),
  metadata: Type.Record(Type.String(), Type.String()),
  secret: Type.Optional(Type.String({ description: 'Only in the create response.' })),
  status: Type.Union([Type.Literal('enabled'), Type.Literal('disabled')]),
  url: Type.String(),
});

export const DeletedWebhookEndpointSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('webhook_endpoint'),
  deleted: Type.Literal(true),
});

export const WebhookAttemptSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('webhook_attempt'),
  attempt: Type.Integer(),
  created: Type.Integer(),
  duration_ms: Type.Integer(),
  endpoint: Type.String(),
  error: NullableString,
  event: Type.String(),
  livemode: Type.Boolean(),
  response_body_excerpt: Type.String(),
  status_code: Type.Union([Type.Integer(), Type.Null()]),
});

export const WebhookDeliverySchema = Type.Object({
  object: Type.Literal('webhook_delivery'),
  endpoint: Type.String(),
  event: Type.String(),
  livemode: Type.Boolean(),
  next_attempt: Type.Integer(),
  status: Type.Literal('pending'),
});

export const WebhookEndpointListSchema = listOf(WebhookEndpointSchema);
export const WebhookAttemptListSchema = listOf(WebhookAttemptSchema);
