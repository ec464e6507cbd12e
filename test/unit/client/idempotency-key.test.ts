import { newIdempotencyKey } from "../../../client/src/idempotency-key";

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("newIdempotencyKey", () => {
  it("is crypto.randomUUID() where it exists", () => {
    const spy = jest.spyOn(globalThis.crypto, "randomUUID");
    try {
      expect(newIdempotencyKey()).toMatch(UUID_V4);
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
  });

  it("is a version 4 UUID from getRandomValues without it (a page outside a secure context), a new one each time", () => {
    const randomUUID = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(globalThis.crypto), "randomUUID")!;
    delete (Object.getPrototypeOf(globalThis.crypto) as { randomUUID?: unknown }).randomUUID;
    try {
      expect(typeof globalThis.crypto.randomUUID).toBe("undefined");
      const keys = Array.from({ length: 1000 }, () => newIdempotencyKey());
      for (const key of keys) expect(key).toMatch(UUID_V4);
      expect(new Set(keys).size).toBe(1000);
    } finally {
      Object.defineProperty(Object.getPrototypeOf(globalThis.crypto), "randomUUID", randomUUID);
    }
  });
});
