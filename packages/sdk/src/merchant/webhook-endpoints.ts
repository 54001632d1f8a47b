import { segment } from '../form.js';
import type { ListParams } from '../types/v1.js';
import type { ListPromise } from '../pagination.js';
import type {
  DeletedObject,
  WebhookAttempt,
  WebhookDelivery,
  WebhookEndpoint,
  WebhookEndpointCreateParams,
  WebhookEndpointUpdateParams,
} from '../types/v1.js';
import type { CallOptions, V1Requester } from './requester.js';

export class WebhookEndpoints {
  constructor(private readonly v1: V1Requester) {}

  /** The response carries the signing secret (whsec_…), only this once. */
  create(params: WebhookEndpointCreateParams, options?: CallOptions): Promise<WebhookEndpoint> {
    return this.v1.post('/webhook_endpoints', params, options);
  }

  retrieve(id: string, params: { expand?: string[] } = {}, options?: CallOptions): Promise<WebhookEndpoint> {
    return this.v1.get(`/webhook_endpoints/${segment(id)}`, params, options);
  }

  update(id: string, params: WebhookEndpointUpdateParams, options?: CallOptions): Promise<WebhookEndpoint> {
    return this.v1.post(`/webhook_endpoints/${segment(id)}`, params, options);
  }

  del(id: string, options?: CallOptions): Promise<DeletedObject<'webhook_endpoint'>> {
    return this.v1.delete(`/webhook_endpoints/${segment(id)}`, options);
  }

  list(params: ListParams = {}, options?: CallOptions): ListPromise<WebhookEndpoint> {
    return this.v1.list('/webhook_endpoints', params, options);
  }

  /** Yunpay extension: delivery attempts to this endpoint, newest first. */
  listAttempts(id: string, params: ListParams = {}, options?: CallOptions): ListPromise<WebhookAttempt> {
    return this.v1.list(`/webhook_endpoints/${segment(id)}/attempts`, params, options);
  }

  /** Yunpay extension: delivers an event to this endpoint again. */
  resend(id: string, params: { event: string }, options?: CallOptions): Promise<WebhookDelivery> {
    return this.v1.post(`/webhook_endpoints/${segment(id)}/resend`, params, options);
  }
}
