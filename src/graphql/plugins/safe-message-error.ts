import { GraphQLError, type GraphQLErrorOptions } from "graphql";

/**
 * A client error whose message this server wrote from fixed text and schema names only, never from anything the
 * client sent (a value, a name from its document, a header). formatError passes such messages on in production;
 * every other message from graphql-js, Apollo or a library is replaced by a fixed text there
 * (plugins/error-format.ts, docs/security-requirements.md A6 and A8).
 */
export class SafeMessageError extends GraphQLError {
  constructor(message: string, options?: GraphQLErrorOptions) {
    super(message, options);
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** True when `error`, or the error it wraps (Apollo and graphql-js wrap errors once), is a SafeMessageError. */
export function isSafeMessage(error: unknown): boolean {
  if (error instanceof SafeMessageError) return true;
  return error instanceof GraphQLError && error.originalError instanceof SafeMessageError;
}
