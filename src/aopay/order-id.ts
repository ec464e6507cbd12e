import { randomInt } from "node:crypto";

/** Our reference for one call, on the wire as `order_id` / `client_order_id`: made here (AopayClient), never by callers. */
export interface OrderRef {
  orderId: string;
}

/**
 * A fresh `order_id` / `client_order_id` ("your unique reference / tracking id", docs/upstream/aopay-api.md §1.1, §1.4). AOPay's
 * only example is "1234", so its accepted length and alphabet are UNKNOWN: we send digits only, 18 of them
 * (milliseconds since 1970 plus 5 random digits), which stays below 2^63 if AOPay stores it as a number.
 */
export function newOrderId(now = Date.now()): string {
  return `${now}${String(randomInt(0, 100_000)).padStart(5, "0")}`;
}
