import { type ThrottleConfig } from "../../../src/config";
import { KeyHasher } from "../../../src/protection/key-hasher";
import { ClientShareFullError, MemoryStoreFullError } from "../../../src/protection/memory-counters";
import { OtpThrottle, type OtpSubject, type ThrottlePurpose } from "../../../src/protection/otp-throttle";
import { throttleConfig } from "../../helpers/throttle";

/**
 * The in-memory throttle's per-client share (MEMORY_THROTTLE_CLIENT_SHARE_PERCENT; docs/security.md "Other tables
 * keyed by what a request sends"): a client holding its share of the entries is refused what needs a new one, the
 * others are not; a budget is never forgotten for it (nothing evicted), and a refused send leaves every counter as it
 * found it.
 */
const hasher = new KeyHasher(Buffer.from("k".repeat(32)));
const config = (overrides: Partial<ThrottleConfig> = {}): ThrottleConfig =>
  throttleConfig({ cooldownSeconds: 60, verify: { points: 5, seconds: 600 }, ...overrides });
const to = (clientId: string, ...mobiles: string[]): OtpSubject => ({
  destinations: mobiles.map((value) => ({ kind: "mobile" as const, value })),
  ip: "203.0.113.7",
  clientId,
});
/** A mobile of its own number range (its prefix budget a new entry too, unless `prefix` is shared). */
const mobile = (n: number, prefix = "98765") => `${prefix}${String(n).padStart(5, "0")}`;

function throttle(maxKeys: number, maxKeysPerOwner: number, overrides: Partial<ThrottleConfig> = {}) {
  const clock = { t: 1_750_000_000_000 };
  let ownerFull = 0;
  const t = new OtpThrottle(config(overrides), hasher, null, {
    maxKeys,
    maxKeysPerOwner,
    now: () => clock.t,
    onOwnerFull: () => ownerFull++,
  });
  const reserve = (subject: OtpSubject, purpose: ThrottlePurpose = "send") => {
    try {
      return t.reserve(subject, purpose) as { allowed: boolean; code?: string };
    } catch (error) {
      if (error instanceof ClientShareFullError) return { allowed: false, code: `share:${error.table}` };
      if (error instanceof MemoryStoreFullError) return { allowed: false, code: "full" };
      throw error;
    }
  };
  return { t, clock, reserve, ownerFull: () => ownerFull };
}

describe("OtpThrottle in memory: each client's share of the entries", () => {
  it("a client at its share is refused new destinations; another client is not, and the table is not full", () => {
    // A's first send: its mobile, the mobile's prefix, the IP, the client and the global window (5); then 1 a send.
    const { reserve, ownerFull } = throttle(20, 8);
    const outcomes = [0, 1, 2, 3, 4, 5].map((n) => reserve(to("a", mobile(n))).allowed);
    expect(outcomes).toEqual([true, true, true, true, false, false]);
    expect(ownerFull()).toBe(2);
    // B: its mobile and its client window (the IP's, the prefix's and the global one are there already).
    for (let n = 10; n < 16; n++) expect(reserve(to("b", mobile(n))).allowed).toBe(true);
  });

  it("a send refused for the share (as a full table would refuse it) leaves every counter as it found it", () => {
    const { reserve } = throttle(20, 6, { ip: { points: 3, seconds: 60 } });
    expect(reserve(to("a", mobile(0))).allowed).toBe(true);
    // Two destinations: the first entry fits A's share, the second does not: nothing of the send is kept.
    expect(reserve(to("a", mobile(1), mobile(2)))).toEqual({ allowed: false, code: "share:throttle" });
    // The IP's point (3 a minute) was given back: two more sends from it go, the third is refused by the IP budget.
    expect(reserve(to("b", mobile(1))).allowed).toBe(true);
    expect(reserve(to("b", mobile(3))).allowed).toBe(true);
    expect(reserve(to("b", mobile(4)))).toMatchObject({ allowed: false, code: "RATE_LIMITED" });
    // A's refused send added no time to mobile(1): B's send there was its first (the cooldown would refuse a second).
    expect(reserve(to("b", mobile(1)))).toMatchObject({ allowed: false, code: "OTP_COOLDOWN" });
  });

  it("at its share a client still sends to destinations it holds, under their budgets (nothing forgotten)", () => {
    const { reserve, clock } = throttle(20, 5);
    expect(reserve(to("a", mobile(0))).allowed).toBe(true);
    expect(reserve(to("a", mobile(1))).allowed).toBe(false);
    // Its destination's cooldown still holds: the entry was kept, never evicted.
    expect(reserve(to("a", mobile(0)))).toMatchObject({ allowed: false, code: "OTP_COOLDOWN" });
    clock.t += 60_000;
    // The IP, client, global and prefix windows (a minute) have ended: their entries go at the next sweep.
    expect(reserve(to("a", mobile(0))).allowed).toBe(true);
  });

  it("a destination counts for the client whose send it last counted: another client's send there moves it", () => {
    const { reserve, clock } = throttle(40, 6, { cooldownSeconds: 0 });
    // A: 5 entries. B sends to A's mobile: its client window is new, and the mobile now counts for B.
    expect(reserve(to("a", mobile(0))).allowed).toBe(true);
    expect(reserve(to("b", mobile(0))).allowed).toBe(true);
    // A holds 4 of 6: two new mobiles go, a third does not.
    expect(reserve(to("a", mobile(1))).allowed).toBe(true);
    expect(reserve(to("a", mobile(2))).allowed).toBe(true);
    expect(reserve(to("a", mobile(3))).allowed).toBe(false);
    // A sends to that mobile again: no new entry, so it goes though A is at its share, and it moves back to A (7).
    clock.t += 1_000;
    expect(reserve(to("a", mobile(0))).allowed).toBe(true);
    expect(reserve(to("a", mobile(4))).allowed).toBe(false);
    // B holds its client window only: five new mobiles go (four if the mobile still counted for it), not six.
    for (let n = 20; n < 25; n++) expect(reserve(to("b", mobile(n))).allowed).toBe(true);
    expect(reserve(to("b", mobile(25))).allowed).toBe(false);
  });

  it.each<[ThrottlePurpose, (client: string, n: number) => OtpSubject]>([
    ["verify", (client, n) => to(client, mobile(n))],
    ["register", (client, n) => ({ destinations: [], ip: `203.0.113.${n}`, clientId: client })],
  ])("%s: a new entry counts in the client's share too", (purpose, subject) => {
    const { reserve } = throttle(40, 4);
    const outcomes = [0, 1, 2, 3].map((n) => reserve(subject("a", n), purpose).allowed);
    // verify: the destination's, the IP's and the client's windows, then one a guess; register: the IP's and the
    // client's, then one an address.
    expect(outcomes).toEqual(purpose === "verify" ? [true, true, false, false] : [true, true, true, false]);
    expect(reserve(subject("b", 9), purpose).allowed).toBe(true);
  });

  it("without a share (100 %) one client may take the whole table, which then refuses everyone (full)", () => {
    const { reserve } = throttle(8, 8);
    for (let n = 0; n < 4; n++) expect(reserve(to("a", mobile(n))).allowed).toBe(true);
    expect(reserve(to("a", mobile(4)))).toEqual({ allowed: false, code: "full" });
    expect(reserve(to("b", mobile(5)))).toEqual({ allowed: false, code: "full" });
  });
});
