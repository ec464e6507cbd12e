import { ApolloLink } from "@apollo/client";
import { ServerError } from "@apollo/client/errors";
import { map } from "rxjs";
import { requestIdOf, retryAfterOf } from "../graphql-errors.js";
import { MAX_RETRY_AFTER_SECONDS, MIN_RETRY_AFTER_SECONDS, retryAfterSeconds } from "../retry-after.js";

/**
 * What the server says about a request in HTTP headers, which Apollo Client does not pass on by itself: the
 * request id (`x-request-id`, for support), whether an Idempotency-Key replayed an earlier result
 * (`Idempotent-Replayed`) and how long to wait before asking again after a refusal (`Retry-After`). The server
 * exposes all three to browsers through CORS.
 */
export interface RequestMeta {
  readonly requestId: string | null;
  readonly replayed: boolean;
  /**
   * Seconds from `Retry-After`, null without one. The server sends it with the HTTP 503 `OVERLOADED` it answers
   * before GraphQL runs: nothing was done, and the same request may be sent again after this many seconds. Such a
   * refusal reaches `mutate()` as a rejected CombinedGraphQLErrors (the server answers Apollo Client's Accept with
   * application/graphql-response+json; a proxy's 503 is a ServerError); read it with requestMetaOf(error), which
   * without the link takes the same seconds from the errors' `extensions.retryAfterSeconds`.
   */
  readonly retryAfterSeconds: number | null;
}

/** Where createRequestMetaLink() puts RequestMeta in a result's `extensions`. */
export const REQUEST_META_EXTENSION = "aopayRequest";

/**
 * An Apollo link that copies `x-request-id` and `Idempotent-Replayed` from the HTTP response into the result's
 * `extensions.aopayRequest`; read them with requestMetaOf(). Put it before the HttpLink:
 * `link: ApolloLink.from([createRequestMetaLink(), new HttpLink({ uri })])`.
 */
export function createRequestMetaLink(): ApolloLink {
  return new ApolloLink((operation, forward) =>
    forward(operation).pipe(
      map((result) => {
        // HttpLink stores the fetch Response in the operation's context before it emits the result.
        const { response } = operation.getContext() as { response?: Response };
        if (!response?.headers) return result;
        const meta: RequestMeta = {
          requestId: response.headers.get("x-request-id"),
          replayed: response.headers.get("idempotent-replayed") === "true",
          retryAfterSeconds: retryAfterSeconds(response.headers.get("retry-after")),
        };
        return { ...result, extensions: { ...result.extensions, [REQUEST_META_EXTENSION]: meta } };
      }),
    ),
  );
}

/**
 * The request id, replay flag and Retry-After wait of a mutation or query outcome: a result from `mutate()` (through
 * createRequestMetaLink), or the error it failed with (GraphQL errors carry `extensions.requestId`, and a refusal's
 * `extensions.retryAfterSeconds`; a ServerError carries the HTTP response). Null id when none is known.
 */
export function requestMetaOf(outcome: { extensions?: Record<string, unknown> } | unknown): RequestMeta {
  const extensions = (outcome as { extensions?: Record<string, unknown> } | null | undefined)?.extensions;
  const meta = extensions?.[REQUEST_META_EXTENSION] as RequestMeta | undefined;
  if (meta && typeof meta === "object")
    return {
      requestId: meta.requestId ?? null,
      replayed: meta.replayed === true,
      retryAfterSeconds: meta.retryAfterSeconds ?? null,
    };
  if (ServerError.is(outcome)) {
    const { headers } = outcome.response;
    return {
      requestId: headers.get("x-request-id"),
      replayed: false,
      retryAfterSeconds: retryAfterSeconds(headers.get("retry-after")),
    };
  }
  // GraphQL errors (CombinedGraphQLErrors, without the link): the id and the wait the server put in them.
  const errors = (outcome as { errors?: unknown } | null | undefined)?.errors;
  if (!Array.isArray(errors)) return { requestId: null, replayed: false, retryAfterSeconds: null };
  const wait = retryAfterOf(errors);
  return {
    requestId: requestIdOf(errors),
    replayed: false,
    retryAfterSeconds:
      wait === null ? null : Math.min(Math.max(MIN_RETRY_AFTER_SECONDS, wait), MAX_RETRY_AFTER_SECONDS),
  };
}
