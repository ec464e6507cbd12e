import { randomInt } from "node:crypto";

/** Our reference for one call, on the wire as `order_id` / `client_order_id`: made here (AopayClient), never by callers. */
export interface OrderRef {
  orderId: string;
}

/** Ids per millisecond the 5-digit suffix can tell apart. */
const PER_MS = 100_000;

/**
 * Makes `order_id` / `client_order_id` values: "your unique reference / tracking id" (docs/upstream/aopay-api.md
 * §1.1, §1.4). AOPay's only example is "1234", so its accepted length and alphabet are UNKNOWN, and so is what it
 * does with a repeated id (refuse it, or link the answer to the earlier order: the docs are silent). We send digits
 * only, 18 of them: milliseconds since 1970 (13) and a 5-digit suffix, which stays below 2^63 if AOPay stores it as a
 * number.
 *
 * Unique within the process: the first id of a millisecond takes a random suffix, the next ones of the same
 * millisecond count on from it (modulo 100,000). A suffix drawn at random for every id, as before, repeated itself
 * by the birthday bound: 1,000 ids in one millisecond held 990 to 998 distinct values (a unit test saw 990), and at
 * 4,000 sends per second two ids of the same millisecond collided about once in 1,250 seconds. A clock that steps
 * back does not reuse a millisecond: the ids go on from the last one until the clock has caught up; over 100,000 ids
 * in one millisecond borrow the next one. Between processes (cluster workers, replicas) two ids collide only when both
 * made one in the same millisecond with suffix runs that meet: each process's run starts at its own random point.
 */
export class OrderIds {
  #ms = Number.NEGATIVE_INFINITY;
  #suffix = 0;
  #issued = 0;

  next(now: number = Date.now()): string {
    if (now > this.#ms) {
      this.#ms = now;
      this.#suffix = randomInt(0, PER_MS);
      this.#issued = 1;
    } else if (this.#issued < PER_MS) {
      this.#suffix = (this.#suffix + 1) % PER_MS;
      this.#issued++;
    } else {
      this.#ms++;
      this.#suffix = randomInt(0, PER_MS);
      this.#issued = 1;
    }
    return `${this.#ms}${String(this.#suffix).padStart(5, "0")}`;
  }
}

const processIds = new OrderIds();

/** A fresh order id from this process's sequence (OrderIds). */
export function newOrderId(): string {
  return processIds.next();
}
