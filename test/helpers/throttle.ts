import type { ThrottleConfig } from "../../src/config";
import { MAX_KEY_CHARS } from "../../src/protection/key-index";

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
    registerIp: GENEROUS,
    registerClient: GENEROUS,
    readCibil: GENEROUS,
    readClient: GENEROUS,
    readIp: GENEROUS,
    ...overrides,
  };
}

/** A seeded pseudo-random generator (mulberry32): the same schedule on every run, and on both stores. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** `seeded` as a whole number below n: the same sequence on every run. */
export function seededBelow(seed: number): (n: number) => number {
  const random = seeded(seed);
  return (n) => Math.floor(random() * n);
}

/**
 * The most sends found in any span of `spanMs` (a send at `t` in the span (end - spanMs, end]), over sorted times: the
 * figure "≤3 per 10 minutes" bounds when it holds in every span, not only in fixed windows.
 */
export function mostInAnySpan(times: readonly number[], spanMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (j < sorted.length && sorted[j] - sorted[i] < spanMs) j++;
    best = Math.max(best, j - i);
  }
  return best;
}

/**
 * `count` distinct ASCII keys, of every length from 0 to MAX_KEY_CHARS (44, key-index.ts) in turn, one of length 0:
 * the key column's bounds on every page. `random(n)` answers a whole number below n.
 */
export function keysOfEveryLength(count: number, random: (n: number) => number): string[] {
  const seen = new Set<string>();
  const keys: string[] = [];
  for (let i = 0; keys.length < count; i++) {
    const length = i % (MAX_KEY_CHARS + 1);
    let key = "";
    for (let c = 0; c < length; c++) key += String.fromCharCode(33 + random(94)); // printable ASCII
    if (seen.has(key)) continue;
    seen.add(key);
    keys.push(key);
  }
  return keys;
}
