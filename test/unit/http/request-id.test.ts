import { callerRequestId, freshRequestId, mayBeRewritten } from "../../../src/http/request-id";
import { Scrubber } from "../../../src/pii/scrub";

/**
 * Request ids are written on every log line, and the scrubber runs over every line: an id it rewrites is no longer the
 * id the client was given (src/http/request-id.ts). Neither a caller's id kept beside ours nor a fresh id may be one.
 */
const scrubber = new Scrubber();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("request ids survive the log scrubber", () => {
  it.each([
    // 8 digits (2 to 9 first), a dash and 4 digits: read as an Aadhaar number written XXXXXXXX-XXXX.
    "23456789-1234-4abc-8def-abcdefabcdef",
    "98765432-1098-4abc-9def-abcdefabcdef",
    "23456789-1234-4abc-8def-ABCDEFABCDEF",
  ])("does not keep %s, which the scrubber would rewrite", (id) => {
    expect(scrubber.scrub(id.toLowerCase())).not.toBe(id.toLowerCase());
    expect(callerRequestId(id)).toBeUndefined();
  });

  it.each([
    "0f038101-a5d9-4bd3-b25e-70a1aac05472",
    // Eight digits in the same place, but the second group opens with a letter: fewer than ten in a run.
    "12345678-a123-4abc-8def-abcdefabcdef",
    "23456789-a123-4abc-8def-abcdefabcdef",
    // Nine digits across a dash.
    "abcdef12-3456-4abc-9876-54321abcdef0",
  ])("keeps %s, which the scrubber leaves alone", (id) => {
    expect(scrubber.scrub(id)).toBe(id);
    expect(callerRequestId(id)).toBe(id);
    expect(callerRequestId(id.toUpperCase())).toBe(id);
  });

  it.each([
    ["not a UUID", "req-abc.123"],
    ["a UUID holding ten digits in a row", "0f038101-a5d9-4bd3-b25e-709812345678"],
    // Through its dashes (an attack review: both were kept, and logged whole on every line of their request).
    ["a UUID holding a mobile across its last dash", "abcdef12-3456-4abc-9876-543210abcdef"],
    ["a UUID holding an Aadhaar number written XXXX-XXXX-XXXX", "abcdef12-3456-4234-8123-4123abcdef12"],
    ["a UUID holding ten digits across two dashes", "abcdef12-3456-4a98-8765-4321abcdef12"],
    ["a UUID with the wrong variant", "0f038101-a5d9-4bd3-c25e-70a1aac05472"],
    ["two values", ["0f038101-a5d9-4bd3-b25e-70a1aac05472", "0f038101-a5d9-4bd3-b25e-70a1aac05473"]],
  ])("does not keep %s", (_what, header) => {
    expect(callerRequestId(header)).toBeUndefined();
  });

  it("makes only ids the scrubber leaves alone (50,000 fresh ids, where ~175 random UUIDs would not be)", () => {
    const ids = Array.from({ length: 50_000 }, freshRequestId);
    for (const id of ids) if (scrubber.scrub(id) !== id || !UUID.test(id)) throw new Error(`unsafe id ${id}`);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("skips the scrubber's check only for ids it leaves alone: 200,000 digit-heavy UUIDs, alone and in a line", () => {
    // Each hexadecimal digit a decimal one 9 times in 10: long digit runs in every group, first groups with one letter
    // anywhere. mayBeRewritten false must mean the scrubber changes nothing (freshRequestId skips its check then).
    let seed = 7;
    const next = () => (seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) / 4_294_967_296;
    const hex = (n: number) =>
      Array.from({ length: n }, () =>
        next() < 0.9 ? String(Math.floor(next() * 10)) : "abcdef"[Math.floor(next() * 6)],
      ).join("");
    let skipped = 0;
    for (let i = 0; i < 200_000; i++) {
      const id = `${hex(8)}-${hex(4)}-4${hex(3)}-${"89ab"[i % 4]}${hex(3)}-${hex(12)}`;
      if (mayBeRewritten(id)) continue;
      skipped += 1;
      const line = `{"level":"info","requestId":"${id}","callerRequestId":"${id}"}\n`;
      if (scrubber.scrub(id) !== id || scrubber.scrub(line) !== line)
        throw new Error(`skipped an id it rewrites: ${id}`);
    }
    // 23,646 of them: most digit-heavy ids hold a run of ten digits through their dashes (mayBeRewritten checks those).
    expect(skipped).toBeGreaterThan(20_000);
  });
});
