import { EventListSchema, EventSchema } from './types.js';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError } from '../../../platform/errors.js';
import {
  V1CreatedFilter,
  V1Expand,
  V1Id,
  V1ListParams,
  V1String,
  listResponse,
  pageRequestFrom,
  v1Scope,
  v1ErrorResponses,
} from '../../../v1/index.js';
import type { MerchantEvents } from './service.js';

export interface EventRoutesOptions {
  events: MerchantEvents;
}

const eventType = V1String({ minLength: 1, maxLength: 100, pattern: '^[a-z_.*]+$' });

/** GET /v1/events/{id} and GET /v1/events (type, types[], created filters). */
export const eventRoutes: FastifyPluginAsyncTypebox<EventRoutesOptions> = async (app, options) => {
  const { events } = options;

  app.get(
    '/events/:id',
    {
      config: { v1: { resource: 'events', object: 'event' } },
      schema: {
        params: Type.Object({ id: V1Id() }),
        querystring: Type.Object({ expand: Type.Optional(V1Expand) }, { additionalProperties: false }),
        response: { 200: EventSchema, ...v1ErrorResponses },
      },
    },
    async (request) => events.retrieve(v1Scope(request), request.params.id),
  );

  app.get(
    '/events',
    {
      config: { v1: { resource: 'events', object: 'event', list: true } },
      schema: {
        querystring: Type.Object(
          {
            ...V1ListParams,
            created: Type.Optional(V1CreatedFilter),
            type: Type.Optional(eventType),
            types: Type.Optional(Type.Array(eventType, { maxItems: 20 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: EventListSchema, ...v1ErrorResponses },
      },
    },
    async (request) => {
      const query = request.query;
      if (query.type !== undefined && query.types !== undefined) {
        throw new AppError('parameter_invalid', {
          message: 'You may only specify one of these parameters: type, types.',
          param: 'types',
        });
      }
      const page = await events.list(v1Scope(request), {
        page: pageRequestFrom(query),
        ...(query.type === undefined ? {} : { type: query.type }),
        ...(query.types === undefined ? {} : { types: query.types }),
      });
      return listResponse({ data: page.data, hasMore: page.hasMore, url: '/v1/events' });
    },
  );
};
