/**
 * The resend countdown on every successful OTP send (`resendAvailableInSeconds`).
 *
 * Why seconds from now and not a time of day: a countdown compared with a device's own clock would be wrong by that
 * clock's error (phones and kiosks drift by minutes), and `OtpThrottled.retryAfterSeconds` and HTTP `Retry-After`
 * already speak in seconds. The value is computed when the response is produced, from an absolute time kept on the
 * result object (`resendAvailableAt`), so an idempotent replay minutes later still tells the truth.
 */
export const RESEND_AVAILABLE_DESCRIPTION =
  "Seconds from this response until this service takes another OTP send to the same destination (0: now). It comes " +
  "from the counters that refuse an earlier send with OtpThrottled (OTP_COOLDOWN, OTP_LIMIT_REACHED), rounded up, so " +
  "a client that waits this long is not refused for the destination (the caller's own budgets, RATE_LIMITED, may " +
  "still apply). Seconds rather than a time of day, so a device's wrong clock cannot skew a countdown; recomputed on " +
  "an idempotent replay.";

/**
 * Whole seconds from `now` until `at` (epoch ms), rounded up, never negative. A result stored for an idempotent replay
 * by a version without `resendAvailableAt` (up to IDEMPOTENCY_TTL_SECONDS after an upgrade) has no time: 0, and an
 * early send is still refused with OtpThrottled and its retryAfterSeconds.
 */
export function secondsUntil(at: number | undefined, now = Date.now()): number {
  if (at === undefined || !Number.isFinite(at)) return 0;
  return Math.max(0, Math.ceil((at - now) / 1000));
}
