import { randomUUID } from "node:crypto";
import { request } from "undici";
import { cibilInput, GENERATE_CIBIL_OTP, resultOf } from "../helpers/operations";
import { nextCibilId } from "../helpers/identifiers";
import { type ProductionTestStack, startProductionStack, TEST_API_KEY } from "../helpers/stack";

/**
 * The in-memory stores' hard caps (docs/security.md "Memory"): production settings without Redis,
 * tiny caps, the simulator counting what reaches it. When a table is full, a send that needs a new entry is refused
 * with PROTECTION_UNAVAILABLE and nothing is sent; entries already held keep working (no live entry is evicted, so no
 * budget is forgotten); the log says so once per minute, not once per refusal.
 */
const auth = { "x-api-key": TEST_API_KEY };

function warnings(t: ProductionTestStack, store: string) {
  return t.logs
    .records()
    .filter((r) => r.level === "warn" && (r.memoryStore as { store?: string } | undefined)?.store === store);
}

describe("in-memory throttle cap (MEMORY_THROTTLE_MAX_KEYS)", () => {
  let t: ProductionTestStack;
  // A CIBIL send to a new id takes two entries, one per destination (its cooldown, window and daily budgets): the id
  // and its access token (cibilInput gives each id its own); the IP, client and global entries are shared.
  const DESTINATIONS_THAT_FIT = 4;
  beforeAll(async () => {
    t = await startProductionStack({
      OTP_COOLDOWN_SECONDS: "60",
      MEMORY_THROTTLE_MAX_KEYS: String(3 + 2 * DESTINATIONS_THAT_FIT),
      // The table's own cap, with its one client: no share (shared-tables.test.ts tests the share).
      MEMORY_THROTTLE_CLIENT_SHARE_PERCENT: "100",
    });
  });
  afterAll(() => t?.stop());

  it("sends to new destinations until the cap, then refuses them with PROTECTION_UNAVAILABLE and sends nothing", async () => {
    const ids = Array.from({ length: DESTINATIONS_THAT_FIT + 5 }, () => nextCibilId());
    const codes: string[] = [];
    for (const id of ids) {
      const res = await t.gql(GENERATE_CIBIL_OTP, cibilInput(id), auth);
      const r = resultOf(res.body, "generateCibilOtp");
      codes.push(r.__typename === "CibilOtpChallenge" ? "sent" : (r.code as string));
    }
    expect(codes).toEqual([...Array(DESTINATIONS_THAT_FIT).fill("sent"), ...Array(5).fill("PROTECTION_UNAVAILABLE")]);
    expect(t.received.filter((w) => w.endpoint === "cibil.generateOtp")).toHaveLength(DESTINATIONS_THAT_FIT);
    // A destination already counted keeps its budget: its cooldown still applies (not forgotten, not refused as full).
    const again = resultOf((await t.gql(GENERATE_CIBIL_OTP, cibilInput(ids[0]), auth)).body, "generateCibilOtp");
    expect(again).toMatchObject({ __typename: "OtpThrottled", code: "OTP_COOLDOWN" });
    expect(t.received.filter((w) => w.endpoint === "cibil.generateOtp")).toHaveLength(DESTINATIONS_THAT_FIT);
  });

  it("warns once for the five refusals (one line per minute), naming the setting, with no identifier", () => {
    const lines = warnings(t, "otp throttle");
    expect(lines).toHaveLength(1);
    expect(lines[0].msg).toMatch(/in-memory otp throttle store full.*MEMORY_THROTTLE_MAX_KEYS/);
    expect(t.logs.text()).not.toMatch(/"err":\{[^}]*table full/);
  });
});

describe("in-memory idempotency cap (MEMORY_IDEMPOTENCY_MAX_KEYS)", () => {
  let t: ProductionTestStack;
  beforeAll(async () => {
    // One client: the table's cap alone (its share per client: test/e2e/shared-tables.test.ts).
    t = await startProductionStack({
      MEMORY_IDEMPOTENCY_MAX_KEYS: "2",
      MEMORY_IDEMPOTENCY_CLIENT_SHARE_PERCENT: "100",
    });
  });
  afterAll(() => t?.stop());

  it("a new Idempotency-Key past the cap is refused with nothing sent; held keys still replay; requests without a key still send", async () => {
    const sends = () => t.received.filter((w) => w.endpoint === "cibil.generateOtp").length;
    const keys = [randomUUID(), randomUUID(), randomUUID()];
    const inputs = keys.map(() => cibilInput(nextCibilId()));
    const first = await t.gql(GENERATE_CIBIL_OTP, inputs[0], { ...auth, "idempotency-key": keys[0] });
    const second = await t.gql(GENERATE_CIBIL_OTP, inputs[1], { ...auth, "idempotency-key": keys[1] });
    expect([first, second].map((r) => resultOf(r.body, "generateCibilOtp").__typename)).toEqual([
      "CibilOtpChallenge",
      "CibilOtpChallenge",
    ]);
    expect(sends()).toBe(2);

    const third = await t.gql(GENERATE_CIBIL_OTP, inputs[2], { ...auth, "idempotency-key": keys[2] });
    expect(resultOf(third.body, "generateCibilOtp")).toMatchObject({
      __typename: "ProtectionUnavailable",
      code: "PROTECTION_UNAVAILABLE",
    });
    expect(sends()).toBe(2);

    const replay = await t.gql(GENERATE_CIBIL_OTP, inputs[0], { ...auth, "idempotency-key": keys[0] });
    expect(replay.headers["idempotent-replayed"]).toBe("true");
    const keyless = await t.gql(GENERATE_CIBIL_OTP, inputs[2], auth);
    expect(resultOf(keyless.body, "generateCibilOtp").__typename).toBe("CibilOtpChallenge");
    expect(sends()).toBe(3);
    expect(warnings(t, "idempotency")).toHaveLength(1);
  });
});

describe("in-memory idempotency byte budget (MEMORY_IDEMPOTENCY_MAX_BYTES)", () => {
  let t: ProductionTestStack;
  // The least budget (64 KiB), and IDEMPOTENCY_MAX_RESULT_BYTES at 16 KiB: a key is taken only with room for a
  // sealed 16 KiB result (about 23 kB) beside the records held, each simulator challenge a few kB once stored. The
  // count cap is far away: before, only the count was capped, and every key was taken and sent.
  const KEYS = 60;
  beforeAll(async () => {
    t = await startProductionStack({
      MEMORY_IDEMPOTENCY_MAX_BYTES: String(64 * 1024),
      IDEMPOTENCY_MAX_RESULT_BYTES: String(16 * 1024),
      MEMORY_IDEMPOTENCY_MAX_KEYS: "10000",
      MEMORY_IDEMPOTENCY_CLIENT_SHARE_PERCENT: "100",
    });
  });
  afterAll(() => t?.stop());

  const sends = () => t.received.filter((w) => w.endpoint === "cibil.generateOtp").length;
  /** aopay_idempotency_memory_fill_ratio on a real scrape of the metrics listener. */
  async function fill(): Promise<number> {
    const res = await request(t.stack.app.metricsUrl as string);
    const page = await res.body.text();
    const line = /^aopay_idempotency_memory_fill_ratio (\S+)$/m.exec(page);
    if (!line) throw new Error("aopay_idempotency_memory_fill_ratio not on the page");
    return Number(line[1]);
  }

  it("many distinct keys: sent until the bytes are held, then new keys refused before anything is sent", async () => {
    expect(await fill()).toBe(0);
    const keys = Array.from({ length: KEYS }, () => randomUUID());
    const inputs = keys.map(() => cibilInput(nextCibilId()));
    const outcomes: string[] = [];
    for (let i = 0; i < KEYS; i++) {
      const before = sends();
      const res = await t.gql(GENERATE_CIBIL_OTP, inputs[i], { ...auth, "idempotency-key": keys[i] });
      const r = resultOf(res.body, "generateCibilOtp");
      outcomes.push(r.__typename === "CibilOtpChallenge" ? "sent" : (r.code as string));
      // A refused key reached no one: the simulator counts no send for it.
      expect(sends() - before).toBe(r.__typename === "CibilOtpChallenge" ? 1 : 0);
    }
    const sent = outcomes.filter((o) => o === "sent").length;
    // Bounded: some sent (the budget holds a few records), then refused, each PROTECTION_UNAVAILABLE, for good.
    expect(sent).toBeGreaterThanOrEqual(5);
    expect(sent).toBeLessThan(40);
    expect(outcomes).toEqual([...Array(sent).fill("sent"), ...Array(KEYS - sent).fill("PROTECTION_UNAVAILABLE")]);
    expect(sends()).toBe(sent);
    // At 1: no room for another key's pending record.
    expect(await fill()).toBe(1);

    // A kept key still replays from the store (no send); the refused ones' keys were never taken.
    const replay = await t.gql(GENERATE_CIBIL_OTP, inputs[0], { ...auth, "idempotency-key": keys[0] });
    expect(replay.headers["idempotent-replayed"]).toBe("true");
    expect(resultOf(replay.body, "generateCibilOtp").__typename).toBe("CibilOtpChallenge");
    expect(sends()).toBe(sent);
    // Requests without a key are not affected.
    const keyless = await t.gql(GENERATE_CIBIL_OTP, inputs[KEYS - 1], auth);
    expect(resultOf(keyless.body, "generateCibilOtp").__typename).toBe("CibilOtpChallenge");
    expect(sends()).toBe(sent + 1);
    // One warn line for the refusals, naming both settings.
    const lines = warnings(t, "idempotency");
    expect(lines).toHaveLength(1);
    expect(lines[0].msg).toMatch(/MEMORY_IDEMPOTENCY_MAX_BYTES/);
  });
});
