import { useCallback, useEffect, useState } from "react";

/** What an OTP send answered, as far as the next send to the same destination is concerned. */
type SendResult =
  | { __typename: "CibilOtpChallenge" | "AepsOtpResent"; resendAvailableInSeconds: number }
  | { __typename: "OtpThrottled"; code: string; scope: string; retryAfterSeconds: number | null }
  | { __typename: string };

/**
 * The wait before the next OTP send, per destination (a CIBIL id; a mobile and an Aadhaar), as the server states it:
 * `resendAvailableInSeconds` on every successful send, and `retryAfterSeconds` when the server refused a send to the
 * destination (OTP_COOLDOWN, OTP_LIMIT_REACHED: an OTP went out from elsewhere, another tab or another device).
 *
 * The end is kept as this device's time of receipt plus those seconds. The server counts from before it answered and
 * rounds up, so the countdown never ends before the server would take the send; and only the device's clock rate
 * matters, not whether its clock is right (why the server speaks in seconds, not a time of day).
 */
export function useResendCountdown() {
  const [ends, setEnds] = useState<Record<string, number>>({});
  const [now, setNow] = useState(() => Date.now());

  useEffect(() => {
    if (!Object.values(ends).some((end) => end > Date.now())) return;
    const timer = setInterval(() => {
      const at = Date.now();
      setNow(at);
      if (!Object.values(ends).some((end) => end > at)) clearInterval(timer);
    }, 250);
    return () => clearInterval(timer);
  }, [ends]);

  /** Records what a send to `destinations` answered. */
  const record = useCallback((destinations: readonly string[], result: SendResult | null | undefined) => {
    const seconds = waitOf(result);
    if (seconds === null) return;
    const at = Date.now();
    setNow(at);
    setEnds((current) => {
      const next = { ...current };
      for (const destination of destinations) next[destination] = Math.max(next[destination] ?? 0, at + seconds * 1000);
      return next;
    });
  }, []);

  /** Whole seconds until every one of `destinations` takes a send (0: now), and whether any was sent to before. */
  const countdownFor = (destinations: readonly string[]) => {
    const known = destinations.filter((d) => d in ends);
    const latest = Math.max(0, ...known.map((d) => ends[d]));
    return { secondsLeft: Math.max(0, Math.ceil((latest - now) / 1000)), sentBefore: known.length > 0 };
  };

  return { record, countdownFor };
}

function waitOf(result: SendResult | null | undefined): number | null {
  if (!result) return null;
  if ("resendAvailableInSeconds" in result) return result.resendAvailableInSeconds;
  // The destination's own budgets refused: the wait is the destination's. RATE_LIMITED is the caller's, not the
  // customer's, and says nothing about when this customer can get an OTP.
  if (
    result.__typename === "OtpThrottled" &&
    "scope" in result &&
    result.scope === "DESTINATION" &&
    result.code !== "VERIFY_LIMIT_REACHED"
  ) {
    return result.retryAfterSeconds;
  }
  return null;
}
