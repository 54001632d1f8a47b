import { Type, type Static } from 'typebox';

/**
 * The error envelope of every non-/v1 route, registered once on the app (addSchema) and named by
 * every route's response schemas through `errorResponses`.
 */
export const ErrorBodySchema = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      param: Type.Optional(Type.String()),
      details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
      request_id: Type.String(),
    }),
  },
  { $id: 'ErrorBody' },
);
export type ErrorBody = Static<typeof ErrorBodySchema>;

/** Response schemas for every 4xx and 5xx answer of a route. */
export const errorResponses = { '4xx': { $ref: 'ErrorBody#' }, '5xx': { $ref: 'ErrorBody#' } } as const;

/** The query string of a route that takes none: any parameter is refused. */
export const NoQuerySchema = Type.Object({}, { additionalProperties: false });
