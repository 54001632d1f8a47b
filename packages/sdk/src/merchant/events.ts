import { segment } from '../form.js';
import type { ListPromise } from '../pagination.js';
import type { Event, EventListParams } from '../types/v1.js';
import type { CallOptions, V1Requester } from './requester.js';

export class Events {
  constructor(private readonly v1: V1Requester) {}

  retrieve(id: string, params: { expand?: string[] } = {}, options?: CallOptions): Promise<Event> {
    return this.v1.get(`/events/${segment(id)}`, params, options);
  }

  list(params: EventListParams = {}, options?: CallOptions): ListPromise<Event> {
    return this.v1.list('/events', params, options);
  }
}
