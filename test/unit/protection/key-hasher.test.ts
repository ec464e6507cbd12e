import { createHmac, randomBytes } from "node:crypto";
import { KeyHasher } from "../../../src/protection/key-hasher";

/** What KeyHasher computed with createHmac before it computed HMAC from its definition: the keys in Redis. */
const reference = (secret: Buffer, dimension: string, identifier: string): string =>
  createHmac("sha256", secret).update(dimension).update("\u0000").update(identifier).digest("base64url");

/** A small seeded generator, so that a failure can be reproduced. */
function generator(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
}

/** Strings of every kind: ASCII, Latin-1, BMP, astral (surrogate pairs), lone surrogates, NUL. */
function randomString(next: () => number, maxLength: number): string {
  const length = Math.floor(next() * (maxLength + 1));
  let out = "";
  for (let i = 0; i < length; i++) {
    const kind = next();
    if (kind < 0.4) out += String.fromCharCode(32 + Math.floor(next() * 95));
    else if (kind < 0.55) out += String.fromCharCode(Math.floor(next() * 256));
    else if (kind < 0.75) out += String.fromCharCode(0x100 + Math.floor(next() * 0xd700));
    else if (kind < 0.9) out += String.fromCodePoint(0x10000 + Math.floor(next() * 0xfffff));
    else if (kind < 0.97) out += String.fromCharCode(0xd800 + Math.floor(next() * 0x800));
    else out += "\u0000";
  }
  return out;
}

describe("KeyHasher", () => {
  it("gives the keys earlier versions wrote (fixed vectors)", () => {
    const hasher = new KeyHasher(Buffer.from("k".repeat(32)));
    expect(hasher.hash("destination:mobile", "9876543210")).toBe("o5KYgIQKZBw0yFe2CCT8l7PKVsbbSXLxRBv_N6f3Owc");
    expect(hasher.memoized("ip", "203.0.113.7")).toBe("bIlW1uNJ2y3cGplzBM9SyBJ7L1PIvLg3tHz6TKnRCu4");
    expect(hasher.memoized("ip", "203.0.113.7")).toBe("bIlW1uNJ2y3cGplzBM9SyBJ7L1PIvLg3tHz6TKnRCu4");
  });

  it("memoized: the same characters under two dimensions give each dimension's own key, however they alternate", () => {
    const hasher = new KeyHasher(Buffer.from("k".repeat(32)));
    for (let round = 0; round < 3; round++) {
      expect(hasher.memoized("client", "987654")).toBe(hasher.hash("client", "987654"));
      expect(hasher.memoized("mobile-prefix", "987654")).toBe(hasher.hash("mobile-prefix", "987654"));
      expect(hasher.memoized("mobile-prefix", "987654")).toBe(hasher.hash("mobile-prefix", "987654"));
    }
    expect(hasher.memoized("client", "987654")).not.toBe(hasher.memoized("mobile-prefix", "987654"));
  });

  it.each([0, 1, 16, 32, 63, 64, 65, 100, 200])("equals createHmac for a %i-byte secret", (secretBytes) => {
    const secret = randomBytes(secretBytes);
    const hasher = new KeyHasher(secret);
    const next = generator(secretBytes + 1);
    for (let i = 0; i < 400; i++) {
      // Mostly short (the scratch buffer), some longer than it (a buffer of their own), in any order.
      const maxLength = next() < 0.8 ? 40 : 400;
      const dimension = randomString(next, 24);
      const identifier = randomString(next, maxLength);
      expect(hasher.hash(dimension, identifier)).toBe(reference(secret, dimension, identifier));
    }
  });

  it("equals createHmac at the edges: empty parts, the scratch buffer's bounds, astral and lone surrogates", () => {
    const secret = randomBytes(32);
    const hasher = new KeyHasher(secret);
    const cases: Array<[string, string]> = [
      ["", ""],
      ["destination:mobile", ""],
      ["", "9876543210"],
      ["consent", "app\n123456789012"],
      ["x", "é😀"],
      ["\ud800", "\udc00"],
      ["a\udbff", "\udfffb"],
      ["fingerprint", "😀".repeat(2_000)],
    ];
    // Around the point where the scratch buffer gives way to a buffer of its own: (dimension + 1 + identifier) UTF-16
    // units × 3 against 512 bytes, with 1-, 2-, 3- and 4-byte characters.
    for (const unit of ["a", "é", "€", "😀"])
      for (let n = 150; n <= 520; n += 1) cases.push(["d", unit.repeat(Math.ceil(n / unit.length))]);
    for (const [dimension, identifier] of cases)
      expect(hasher.hash(dimension, identifier)).toBe(reference(secret, dimension, identifier));
  });

  it("does not carry one message into the next (a long message, then shorter ones)", () => {
    const secret = randomBytes(32);
    const hasher = new KeyHasher(secret);
    for (const identifier of ["9".repeat(160), "98765", "", "9".repeat(170), "1"])
      expect(hasher.hash("destination:mobile", identifier)).toBe(reference(secret, "destination:mobile", identifier));
  });

  it("writes the identifier after each dimension's own prefix: ASCII, then not, then shorter, across many dimensions", () => {
    const secret = randomBytes(32);
    const hasher = new KeyHasher(secret);
    // A non-ASCII character after ASCII ones (the byte loop gives way to UTF-8 from the start), then shorter ones; over
    // more dimensions than are kept (the ones past the bound are made per call), each revisited in turn.
    const identifiers = ["AOP554N3XXXX", "98765432é10", "9876543210", "é", "12", ""];
    const dimensions = Array.from({ length: 80 }, (_, i) => (i % 2 === 0 ? `dim${i}` : `dïm${i}`));
    for (let round = 0; round < 2; round++)
      for (const dimension of dimensions)
        for (const identifier of identifiers)
          expect(hasher.hash(dimension, identifier)).toBe(reference(secret, dimension, identifier));
    expect(hasher.hash("aadhaar", "234123412346", "hex")).toBe(
      createHmac("sha256", secret).update("aadhaar\u0000234123412346").digest("hex"),
    );
  });
});
