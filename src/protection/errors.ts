/**
 * The shared state behind throttling or idempotency could not be read or written (Redis down, timed out). OTP sends
 * are then refused: without the store we cannot prove a send is within limits (fail closed).
 */
export class ProtectionStoreError extends Error {
  constructor(what: string, cause: unknown) {
    super(`${what}: shared state unavailable`, { cause });
    this.name = "ProtectionStoreError";
  }
}
