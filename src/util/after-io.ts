/**
 * A timeout that races an answer on a socket (a Redis reply, AOPay's response, a worker's message): `callback(arg)`
 * runs `ms` after now, one check phase after its timer fires, so that an answer already readable is read first.
 *
 * Node runs the timers phase of a loop turn before its poll phase, which reads the sockets. After the event loop
 * stalled for longer than `ms` (a GC pause, a CPU-starved container, a synchronous burst), a plain setTimeout fires
 * before the answer that arrived during the stall has been read: the call was judged timed out although its peer
 * answered in well under a millisecond (a budget or a claim Redis did record, an OTP AOPay did send, reported failed
 * or unknown). setImmediate's check phase comes after that poll phase: the answer is read (the caller settles) before
 * `callback` looks, and a peer that truly did not answer still times out after `ms` and one loop turn more.
 *
 * clearTimeout of the returned handle cancels it until the timer fires; after that `callback` runs whatever happens,
 * so it must do nothing for a call already settled (each caller checks that it is still pending).
 * test/unit/util/after-io.test.ts stalls the loop for longer than `ms` right after a write.
 */
export function timeoutAfterIo<T>(callback: (arg: T) => void, ms: number, arg: T): NodeJS.Timeout {
  return setTimeout(deferToCheckPhase<T>, ms, callback, arg);
}

function deferToCheckPhase<T>(callback: (arg: T) => void, arg: T): void {
  setImmediate(callback, arg);
}
