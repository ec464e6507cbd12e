import type { Socket } from "node:net";
import { getSystemErrorName } from "node:util";

/**
 * Under overload, a connection whose request was just refused is read again only in its turn: its reads stop, and
 * at the end of each event-loop turn (the check phase) at most `perTurn` of the stopped connections, the
 * longest-waiting first, read again. Its next request then waits in the kernel's socket buffer, not in this process.
 *
 * Why (docs/performance-runs.md, "1,500 clients resending at once: where the capacity goes"): a client that does not
 * wait the `Retry-After` sends its next request as soon as the 503 arrives. Measured at 1,500 such clients against 128
 * upstream sockets with a full queue:
 *   - with more ready connections than libuv takes from epoll at once (1,024), its poll phase polls again, up to 48
 *     times, before timers and immediates run: the event loop stalled for up to 1.4 s;
 *   - undici writes the next call on a kept-alive upstream socket only two check phases after an answer (client-h1: a
 *     setImmediate after each response with `pipelining: 1`, then its idle-socket validation, GHSA-35p6-xmwp-9g52).
 *     Every long turn is time the upstream sockets sit idle while calls wait in the queue: 33-71 % of the upstream's
 *     capacity served over 5 runs, 88-92 % with this (100 per turn) in the 5 runs interleaved with them, and 92-99 %
 *     with 20 per turn, the default since (admission.settings.ts: the sizes measured).
 * Refusals read per turn bounded, the turns stay short and the upstream sockets busy. Requests are still refused at
 * once when read; only the reading of a refused connection's next request waits its turn.
 *
 * By hand, on the stream handle: `socket.pause()` does not stop the reads of a socket whose bytes Node's HTTP parser
 * consumes in C++ (the server's sockets): tried, the next request was read at once. `readStop`/`readStart` are the
 * calls net.Socket's own `pause` and `_read` make, with its `reading` flag kept as they keep it. If Node starts
 * reading such a socket again itself, the connection has simply left its turn early; a closed one is skipped.
 */
export class RefusedReads {
  /** Stopped connections, oldest first; `#head` is the next to read again. */
  #waiting: ReadableSocket[] = [];
  #head = 0;
  #scheduled = false;

  constructor(
    /** 0: off (`ADMISSION_REFUSED_READS_PER_TURN`). */
    private readonly perTurn: number,
    /** Runs a turn at the end of this event-loop turn. Tests pass their own, to hold the turns. */
    private readonly schedule: (turn: () => void) => void = setImmediate,
  ) {}

  /** Stops reading `socket` until its turn. Called right after its refusal was written. */
  park(socket: Socket): void {
    if (this.perTurn <= 0) return;
    const s = socket as ReadableSocket;
    const handle = s._handle;
    if (!handle || handle.reading !== true || s.destroyed) return;
    handle.reading = false;
    const err = handle.readStop();
    if (err !== 0) {
      s.destroy(readError(err));
      return;
    }
    this.#waiting.push(s);
    if (!this.#scheduled) {
      this.#scheduled = true;
      this.schedule(this.#turn);
    }
  }

  /** Connections waiting for their turn. */
  get waiting(): number {
    return this.#waiting.length - this.#head;
  }

  readonly #turn = (): void => {
    this.#scheduled = false;
    const waiting = this.#waiting;
    let resumed = 0;
    while (this.#head < waiting.length && resumed < this.perTurn) {
      const s = waiting[this.#head];
      // Let go at once: a closed connection is not held until the array is compacted.
      waiting[this.#head++] = undefined as unknown as ReadableSocket;
      const handle = s._handle;
      if (s.destroyed || !handle || handle.reading) continue;
      handle.reading = true;
      const err = handle.readStart();
      if (err !== 0) s.destroy(readError(err));
      resumed += 1;
    }
    if (this.#head === waiting.length) {
      this.#waiting = [];
      this.#head = 0;
      return;
    }
    // Still waiting: the read part of the array goes once it outweighs the rest (amortised, no shift per socket).
    if (this.#head > waiting.length - this.#head) {
      this.#waiting = waiting.slice(this.#head);
      this.#head = 0;
    }
    this.#scheduled = true;
    this.schedule(this.#turn);
  };
}

/** The part of a net.Socket's libuv stream handle used here (node:net keeps it as `_handle`). */
interface StreamHandle {
  reading: boolean;
  readStop(): number;
  readStart(): number;
}

type ReadableSocket = Socket & { _handle?: StreamHandle | null };

function readError(code: number): Error {
  return Object.assign(new Error(`read ${getSystemErrorName(code)}`), { errno: code, syscall: "read" });
}
