import { randomUUID } from "node:crypto";
import { nextAadhaar, nextAepsRegistration, nextMobile, registrationInput } from "../helpers/identifiers";
import {
  aepsInput,
  GENERATE_CIBIL_OTP,
  REGISTER_CIBIL_CUSTOMER,
  RESEND_AEPS_OTP,
  resultOf,
  type Result,
  VERIFY_AEPS_OTP,
} from "../helpers/operations";
import { connectRedis, REDIS_URL, storeBackends } from "../helpers/redis";
import { startRedisProxy } from "../helpers/redis-proxy";
import { DEFAULT_THROTTLE, stackPerTest, type TestStack } from "../helpers/stack";

/**
 * A request its budgets refuse costs the budget check and the reads the budgets need, and nothing written
 * (docs/security.md "Budgets before store work"): no send mark of a CIBIL id (`regsends:`), no Idempotency-Key claimed
 * then freed (`idem:`), no registration proof (`regready`). Every command the server sends to Redis for the refused
 * request is read through a proxy (test/helpers/redis-proxy.ts), parsed, and judged: only GET, MGET and the budgets'
 * own script (its keys all `otp:`) may appear. Before, each of these refusals wrote first: generateCibilOtp marked
 * the id (a script on `regsends:`) and unmarked it, and a keyed request took its key (SET NX) and freed it (a script).
 */
const HMAC_SECRET = "b".repeat(32);
const [, skip, backendEnv] = storeBackends(HMAC_SECRET)[1];
const maybe = skip === null ? it : it.skip;

/** The commands of a chunk of RESP the server sent (arrays of bulk strings), as lists of strings. */
function commandsOf(chunk: Buffer): string[][] {
  const text = chunk.toString("latin1");
  const commands: string[][] = [];
  let at = 0;
  while (at < text.length && text[at] === "*") {
    const end = text.indexOf("\r\n", at);
    const n = Number(text.slice(at + 1, end));
    at = end + 2;
    const args: string[] = [];
    for (let i = 0; i < n; i++) {
      const lenEnd = text.indexOf("\r\n", at);
      const len = Number(text.slice(at + 1, lenEnd));
      args.push(text.slice(lenEnd + 2, lenEnd + 2 + len));
      at = lenEnd + 2 + len + 2;
    }
    commands.push(args);
  }
  return commands;
}

describe("a request its budgets refuse writes nothing to Redis", () => {
  const { start, env } = stackPerTest(backendEnv);

  /** `fn` on a stack behind a proxy; `refused(run)` answers run's result and the commands it sent under the prefix. */
  async function behindProxy(
    extra: Record<string, string>,
    fn: (
      s: TestStack,
      observe: <T>(run: () => Promise<T>) => Promise<{ value: T; commands: string[][] }>,
    ) => Promise<void>,
  ): Promise<void> {
    const proxy = await startRedisProxy(REDIS_URL as string);
    try {
      const s = await start({ ...DEFAULT_THROTTLE, ...extra, REDIS_URL: proxy.url });
      const prefix = env().REDIS_KEY_PREFIX;
      await fn(s, async (run) => {
        const seen: string[][] = [];
        proxy.intercept(async (chunk) => {
          seen.push(...commandsOf(chunk));
        });
        try {
          const value = await run();
          return { value, commands: seen.filter((args) => args.some((a) => a.startsWith(prefix))) };
        } finally {
          proxy.intercept(null);
        }
      });
    } finally {
      await proxy.close();
    }
  }

  /** Reads, and the budgets' script (every key of its under `otp:`): nothing else. */
  function expectNoWrite(commands: string[][], prefix: string): void {
    const writes = commands.filter(([name, ...args]) => {
      const command = name.toUpperCase();
      if (command === "GET" || command === "MGET") return false;
      if (command === "EVALSHA" || command === "EVAL")
        return !args.filter((a) => a.startsWith(prefix)).every((a) => a.startsWith(`${prefix}otp:`));
      return true;
    });
    expect(writes.map(([name, ...args]) => [name, ...args.filter((a) => a.startsWith(prefix))])).toEqual([]);
    // The budgets were checked (one script), not skipped.
    expect(commands.filter(([name]) => /^EVAL/i.test(name))).toHaveLength(1);
  }

  maybe("generateCibilOtp refused OTP_COOLDOWN: the registered mobile read, the id not marked", async () => {
    await behindProxy({}, async (s, observe) => {
      const prefix = env().REDIS_KEY_PREFIX;
      const registered = resultOf(
        (await s.gql(REGISTER_CIBIL_CUSTOMER, { input: registrationInput() })).body,
        "registerCibilCustomer",
      ) as Result & { cibilId: string; accessToken: string };
      const input = { input: { cibilId: registered.cibilId, accessToken: registered.accessToken } };
      expect(resultOf((await s.gql(GENERATE_CIBIL_OTP, input)).body, "generateCibilOtp").__typename).toBe(
        "CibilOtpChallenge",
      );
      for (const headers of [{}, { "idempotency-key": randomUUID() }] as Array<Record<string, string>>) {
        const { value, commands } = await observe(async () => (await s.gql(GENERATE_CIBIL_OTP, input, headers)).body);
        expect(resultOf(value, "generateCibilOtp")).toMatchObject({ __typename: "OtpThrottled", code: "OTP_COOLDOWN" });
        expectNoWrite(commands, prefix);
        // The record was read (its mobile is budgeted): one MGET.
        expect(commands.filter(([name]) => /^MGET$/i.test(name))).toHaveLength(1);
      }
      // No mark left, none made and removed.
      const redis = await connectRedis();
      try {
        expect(await redis.keys(`${prefix}regsends:*`)).toEqual([]);
      } finally {
        await redis.quit();
      }
      expect(s.simulator?.calls("cibil.generateOtp")).toBe(1);
    });
  });

  maybe("resendAepsOtp and verifyAepsOtp with an Idempotency-Key, refused: the key read, never taken", async () => {
    await behindProxy({ OTP_VERIFY_MAX: "1" }, async (s, observe) => {
      const prefix = env().REDIS_KEY_PREFIX;
      const aeps = aepsInput(nextMobile(), { ...nextAepsRegistration(), aadhaar: nextAadhaar() });
      expect(resultOf((await s.gql(RESEND_AEPS_OTP, aeps)).body, "resendAepsOtp").__typename).toBe("AepsOtpResent");
      const resend = await observe(
        async () => (await s.gql(RESEND_AEPS_OTP, aeps, { "idempotency-key": randomUUID() })).body,
      );
      expect(resultOf(resend.value, "resendAepsOtp")).toMatchObject({ code: "OTP_COOLDOWN" });
      expectNoWrite(resend.commands, prefix);
      const verify = { input: { ...aeps.input, otp: "123456" } };
      await s.gql(VERIFY_AEPS_OTP, verify);
      const refused = await observe(
        async () => (await s.gql(VERIFY_AEPS_OTP, verify, { "idempotency-key": randomUUID() })).body,
      );
      expect(resultOf(refused.value, "verifyAepsOtp")).toMatchObject({ code: "VERIFY_LIMIT_REACHED" });
      expectNoWrite(refused.commands, prefix);
    });
  });

  maybe("registerCibilCustomer with an Idempotency-Key past its client's budget: nothing written", async () => {
    await behindProxy({ REGISTER_CLIENT_MAX: "1" }, async (s, observe) => {
      const prefix = env().REDIS_KEY_PREFIX;
      await s.gql(REGISTER_CIBIL_CUSTOMER, { input: registrationInput() });
      const refused = await observe(
        async () =>
          (await s.gql(REGISTER_CIBIL_CUSTOMER, { input: registrationInput() }, { "idempotency-key": randomUUID() }))
            .body,
      );
      expect(resultOf(refused.value, "registerCibilCustomer")).toMatchObject({ code: "RATE_LIMITED" });
      expectNoWrite(refused.commands, prefix);
      expect(s.simulator?.calls("cibil.register")).toBe(1);
    });
  });
});
