/**
 * `Retry-After` (RFC 9110 §10.2.3) as whole seconds from now, shared by the SDK (`SdkResult.retryAfterSeconds`) and the
 * React link (`RequestMeta.retryAfterSeconds`). The server sends it with its HTTP 503 `OVERLOADED` (admission control,
 * src/http/admission.ts; ADMISSION_RETRY_AFTER_SECONDS, default 1), answered before the request is read. Such a refusal
 * did nothing (no OTP was sent), so a client may send the same request again once the seconds have passed; neither the
 * SDK nor the hooks do it by themselves (a repeated send is the caller's decision: client/src/sdk/client.ts).
 */

/** Longest wait taken from a header (a day): a larger value, or a date further out, is read as this. */
export const MAX_RETRY_AFTER_SECONDS = 86_400;
/**
 * Shortest wait taken from a header: `0`, or a date now or past, is read as 1 s. A wait of nothing has an app that
 * follows it send again at once into the overload that refused it (a proxy in front of the server may send one; this
 * server's own is at least 1, ADMISSION_RETRY_AFTER_SECONDS). The server reads AOPay's `Retry-After` the same way
 * (src/aopay/outcome.ts).
 */
export const MIN_RETRY_AFTER_SECONDS = 1;

const DELAY_SECONDS = /^[0-9]+$/;

/**
 * The header's wait in whole seconds: `delay-seconds` as given, an HTTP-date as the seconds until it (rounded up), at
 * least MIN_RETRY_AFTER_SECONDS and at most MAX_RETRY_AFTER_SECONDS. Null when the header is absent or is neither form.
 */
export function retryAfterSeconds(value: string | null | undefined, now: number = Date.now()): number | null {
  if (value === null || value === undefined) return null;
  const text = value.trim();
  if (DELAY_SECONDS.test(text)) return within(Number(text));
  // An HTTP-date always names a weekday and a month in letters ("Wed, 21 Oct 2015 07:28:00 GMT"); Date.parse alone
  // would also take "1.5" or "-3" as dates.
  if (!/^[A-Za-z]{3},? /.test(text)) return null;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return within(Math.ceil((at - now) / 1000));
}

function within(seconds: number): number {
  return Math.min(Math.max(MIN_RETRY_AFTER_SECONDS, seconds), MAX_RETRY_AFTER_SECONDS);
}
