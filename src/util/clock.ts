/**
 * The clock for durations kept inside this process: cooldowns, windows and TTLs of the in-memory stores, request and
 * upstream deadlines, the circuit breaker's open time.
 *
 * Milliseconds on the epoch's scale (it read the wall clock once, when the process started: `performance.timeOrigin`)
 * that only move forward at the rate time passes (`performance.now()`, CLOCK_MONOTONIC on Linux): a step of the wall
 * clock (NTP correcting a drifted host, an operator's `date -s`, a VM resumed) does not move it. Measured with
 * `Date.now()`, as these were, a step forward of an hour ended every cooldown, window and idempotency record younger
 * than that at once (a second SMS to a customer inside the cooldown; a repeat of an Idempotency-Key sent again), and a
 * step back of an hour added an hour to each (a customer locked out of OTPs for 61 minutes by a 60 s cooldown, an
 * upstream call running an hour past its deadline). test/unit/util/clock-steps.test.ts steps `Date.now` and checks
 * each of them.
 *
 * Whole milliseconds, as Date.now(): the stores' window arithmetic compares sums of readings and durations exactly
 * (memory-counters.ts `reward`), and a fraction would show in `nextSendInMs` (59998.142).
 *
 * Not for a time another process reads (a value stored in Redis, an epoch shown to a client): each process has its own
 * origin. Those keep `Date.now()`, and Redis's own TTLs time the shared stores.
 */
export function monotonicNow(): number {
  // The global `performance` is an accessor (a getter call per read, about 250 main-thread instructions under
  // callgrind): read once per call. Not node:perf_hooks' object, which jest's fake timers leave real: the tests that
  // step this clock install theirs on the global (test/unit/aopay/deadline-timer.test.ts).
  const clock = performance;
  return Math.floor(clock.timeOrigin + clock.now());
}
