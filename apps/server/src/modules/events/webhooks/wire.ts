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
