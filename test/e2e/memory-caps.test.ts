import { randomUUID } from "node:crypto";
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
