import type { EdgeCode } from "../graphql/edge-code";

/** The path of the GraphQL route: only it is authenticated, admitted (admission.ts) and checked for trusted documents. */
export const GRAPHQL_PATH = "/graphql";

/**
 * The body of every error this HTTP layer answers itself, before or outside GraphQL (401, 404, 408, 431, 503 ...):
 * shaped like a GraphQL response, so that clients read `errors[0].extensions.code` and `requestId` in one place.
 */
export function errorBody(message: string, code: EdgeCode, requestId: string) {
  return { errors: [{ message, extensions: { code, requestId } }] };
}
