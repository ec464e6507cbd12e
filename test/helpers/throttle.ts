import type { ThrottleConfig } from "../../src/config";

/** A budget far above any test's traffic, so that only the budget under test can refuse a send. */
export const GENEROUS = { points: 1000, seconds: 60 };

/**
 * Throttle settings for tests of OtpThrottle itself: the per-destination budgets at their documented defaults
 * (60 s cooldown, 3 per 10 minutes, 10 per day), every other budget GENEROUS.
 */
export function throttleConfig(overrides: Partial<ThrottleConfig> = {}): ThrottleConfig {
  return {
    cooldownSeconds: 60,
    destinationWindow: { points: 3, seconds: 600 },
    destinationDaily: { points: 10, seconds: 86_400 },
    mobilePrefix: GENEROUS,
    ip: GENEROUS,
    client: GENEROUS,
    global: GENEROUS,
    verify: GENEROUS,
    verifyIp: GENEROUS,
    verifyClient: GENEROUS,
    ...overrides,
  };
}
