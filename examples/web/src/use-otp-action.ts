import { mayHaveBeenSent, newIdempotencyKey, type RequestMeta, requestMetaOf } from "@aopay-graphql/client/react";
import { useCallback, useRef, useState } from "react";

/** What one submission ended with: a typed result (success or failure member), or an error. */
export interface Outcome<TData, TInput = unknown> {
  /**
   * The input this submission sent. A next step (answering the OTP, verifying it) goes with these values: the form's
   * may have been edited since, e.g. to try a simulator scenario, and the step sent them instead (a mobile edited to
   * …504 answered a correct OTP with OutcomeUnknown).
   */
  input: TInput;
  data?: TData;
  /** CombinedGraphQLErrors (validation, authentication ...), ServerError, or a network failure. */
  error?: unknown;
  meta: RequestMeta;
  idempotencyKey: string;
}

/**
 * Sends an OTP mutation for one user action, safely:
 *
 * - **One Idempotency-Key per action.** A click starts an action with a new key. The same key is sent again only
 *   when the same input goes out again before the server has answered it: a retry after a network failure or a 500
 *   (mayHaveBeenSent), or a double submit that got past the disabled button. The server then replays the first
 *   result instead of sending a second SMS. Once the server has answered (a result, or a refusal that sent nothing),
 *   the action is over and the next click gets a new key.
 * - **One request at a time.** While one is on its way, further submits are ignored.
 *
 * `send` runs the generated hook's mutate function with the key in the operation context, where HttpLink reads
 * headers: `(input, key) => generate({ variables: { input }, context: { headers: { "Idempotency-Key": key } } })`.
 */
export function useOtpAction<TInput, TData>(
  send: (
    input: TInput,
    idempotencyKey: string,
  ) => Promise<{ data?: TData | null; extensions?: Record<string, unknown> }>,
) {
  const action = useRef<{ key: string; input: string } | null>(null);
  const inFlight = useRef(false);
  const [sending, setSending] = useState(false);
  const [outcome, setOutcome] = useState<Outcome<TData, TInput> | null>(null);

  const submit = useCallback(
    async (input: TInput) => {
      if (inFlight.current) return;
      inFlight.current = true;
      setSending(true);
      const fingerprint = JSON.stringify(input);
      if (action.current?.input !== fingerprint) action.current = { key: newIdempotencyKey(), input: fingerprint };
      const idempotencyKey = action.current.key;
      try {
        const result = await send(input, idempotencyKey);
        // IdempotencyConflict means "the first request with this key is still running": ask again with the same key.
        // No result at all (a mutate under errorPolicy "all" resolves with its error instead of rejecting) keeps it
        // too.
        if (result.data && !hasInFlightConflict(result.data)) action.current = null;
        setOutcome({ input, data: result.data ?? undefined, meta: requestMetaOf(result), idempotencyKey });
      } catch (error) {
        // A refusal before the operation ran (BAD_USER_INPUT, 401, 503 OVERLOADED ...) sent nothing: the action is
        // over. Anything else keeps the key for the retry: no answer (a network failure), or a 500
        // INTERNAL_SERVER_ERROR, which the server also answers after the OTP went out; the same key then gets the
        // stored result or OutcomeUnknown, never a second SMS. CombinedGraphQLErrors.is(error) is true for that 500
        // too: it used to end the action, and the next click's new key sent again.
        if (!mayHaveBeenSent(error)) action.current = null;
        setOutcome({ input, error, meta: requestMetaOf(error), idempotencyKey });
      } finally {
        inFlight.current = false;
        setSending(false);
      }
    },
    [send],
  );

  return { submit, sending, outcome };
}

function hasInFlightConflict(data: unknown): boolean {
  return Object.values((data ?? {}) as Record<string, { __typename?: string } | null>).some(
    (v) => v?.__typename === "IdempotencyConflict",
  );
}
