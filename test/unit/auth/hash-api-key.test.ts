import { createHash, randomBytes } from "node:crypto";
import { hashApiKey } from "../../../src/auth/authenticator";

/** API_KEYS entries written by earlier versions (and by `npm run api-key`) hold createHash's SHA-256 hex. */
const reference = (key: string): string => createHash("sha256").update(key, "utf8").digest("hex");

describe("hashApiKey", () => {
  it("is SHA-256 hex of the key's UTF-8 (fixed vectors)", () => {
    expect(hashApiKey("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(hashApiKey("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });

  it("equals createHash for keys of every shape: generated, unicode, lone surrogates, long", () => {
    const keys = ["é😀", "\ud800x", "k".repeat(256), "\u0000"];
    for (let i = 0; i < 300; i++) keys.push(randomBytes(i % 64).toString(i % 2 ? "base64url" : "latin1"));
    for (const key of keys) expect(hashApiKey(key)).toBe(reference(key));
  });
});
