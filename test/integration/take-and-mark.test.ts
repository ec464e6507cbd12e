import { randomUUID } from "node:crypto";
import type Redis from "ioredis";
import { ForeignRecordError, ProtectionStoreError } from "../../src/protection/errors";
import { KeyHasher } from "../../src/protection/key-hasher";
import { MemoryRegisteredMobileStore } from "../../src/protection/memory-registered-mobiles";
import { OtpThrottle } from "../../src/protection/otp-throttle";
import { RedisRegisteredMobileStore } from "../../src/protection/redis-registered-mobiles";
import {
  recordKey,
  RegistrationRaceError,
  SEND_MARK_TTL_MS,
  type StoreSendMark,
} from "../../src/protection/registered-mobiles";
import type { SendOutcome } from "../../src/protection/send-guard";
import {
  type CommandRecorder,
  connectRedis,
  deleteKeys,
  describeWithRedis,
  recordCommands,
  uniquePrefix,
} from "../helpers/redis";
import { hasher, request, sealer, setup } from "../helpers/send-guard";
import { throttleConfig } from "../helpers/throttle";

/**
 * A Redis CIBIL send's budgets' take and its send mark in one script (redis-budgets.ts TAKE_AND_MARK): SendGuard's
 * first reservation carries the mark (RegisteredMobileStore.sendMark), `prepare`'s `sending` takes up the take's
 * answer, as graphql/guarded-send.ts wires them. Two EVALSHA a send (the take that marks, the end), three before.
 * What the mark kept when it was a script of its own is checked here against real Redis: a throttled send writes
 * nothing, the mark and the record reads in one script, the same keys and counts (`regsends:`, the versions before's
 * `regsend:`), a record of another type refused with the points given back, a rotation's other secrets marked by
 * scripts of their own.
 */

const MOBILE = "9876512345";
const OTHER_MOBILE = "9876512399";
const CLIENT = "app";
const PREVIOUS = new KeyHasher(Buffer.from("p".repeat(32)));

describeWithRedis("a CIBIL send's take and mark in one script (Redis)", () => {
  let redis: Redis;
  const prefix = uniquePrefix();
  /** The commands sent on the stores' connection (name and arguments). */
  let recorder: CommandRecorder;
  /** Set: the next script Redis answers has its reply lost (rejected as a timeout would be, after Redis ran it). */
  let loseNextScriptReply = false;
  /** Set: the next script fails before it is written (Redis never runs it). */
  let failNextScript = false;

  beforeAll(async () => {
    redis = await connectRedis();
    const send = redis.sendCommand.bind(redis);
    redis.sendCommand = ((...args: Parameters<Redis["sendCommand"]>) => {
      const command = args[0];
      if (failNextScript && command.name === "evalsha") {
        failNextScript = false;
        command.reject(new Error("Connection is closed."));
        return command.promise;
      }
      if (loseNextScriptReply && command.name === "evalsha") {
        loseNextScriptReply = false;
        // Its answer, once Redis has run it, turned into the failure a lost reply is (redis.ts: never written again).
        const reject = command.reject;
        command.resolve = () => reject(new Error("Command timed out"));
      }
      return send(...args);
    }) as Redis["sendCommand"];
    // Put on after the faults: a command they fail is recorded as sent, as before them.
    recorder = recordCommands(redis, { keys: true });
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    await redis.quit();
  });

  /** The stores of one test (a prefix of its own), and one generateCibilOtp as guardedSend wires it. */
  function stores(options: { config?: ReturnType<typeof throttleConfig>; previous?: boolean } = {}) {
    const sub = `${prefix}${Math.random().toString(36).slice(2, 8)}:`;
    const previousHashers = options.previous ? [PREVIOUS] : [];
    const throttle = new OtpThrottle(options.config ?? throttleConfig(), hasher, {
      redis,
      keyPrefix: sub,
      previousHashers,
    });
    const registered = new RedisRegisteredMobileStore(redis, sub, hasher, sealer, undefined, previousHashers);
    const { guard } = setup({ throttle });
    const marksKey = (cibilId: string, h = hasher) => `${sub}regsends:${recordKey(h, cibilId)}`;
    const countKey = (cibilId: string, h = hasher) => `${sub}regsend:${recordKey(h, cibilId)}`;

    /**
     * generateCibilOtp as guardedSend runs it: the mark made for the take (sendMark), `sending` taking it up in
     * `prepare`, `sent` for every id marked (and for a mark made but never taken up) once the guard is done.
     * `during`: run while the call is upstream (the send under way).
     */
    async function send(
      cibilId: string,
      options: { token?: string; during?: () => Promise<void> } = {},
    ): Promise<{ outcome: SendOutcome<string>; calls: boolean[]; recalled?: readonly string[] }> {
      const r = request({
        input: { cibilId },
        answer: async () => {
          await options.during?.();
          return "ok";
        },
      });
      r.req.subject = { destinations: [{ kind: "cibil", value: cibilId }], ip: "203.0.113.7", clientId: CLIENT };
      const marked: string[] = [];
      // Optional: the version before this change has no sendMark (the same test, read on it, makes three round trips).
      const mark = (registered as { sendMark?: (id: string, token?: string) => StoreSendMark }).sendMark?.(
        cibilId,
        options.token,
      );
      (r.req as { mark?: StoreSendMark }).mark = mark;
      let recalled: readonly string[] | undefined;
      r.req.prepare = async () => {
        recalled = await registered.sending(cibilId, options.token, marked, mark);
        marked.push(cibilId);
        return recalled.map((value) => ({ kind: "mobile" as const, value }));
      };
      try {
        return { outcome: await guard.run(r.req), calls: r.calls, recalled };
      } finally {
        for (const id of marked) await registered.sent(id);
        if (mark?.unclaimed) await registered.sent(mark.cibilId);
      }
    }
    return { send, registered, marksKey, countKey, sub };
  }

  const commandsOf = (step: () => Promise<unknown>) => recorder.during(step);
  const evalshas = (commands: string[][]) => commands.filter((c) => c[0] === "evalsha");

  it("a send: two EVALSHA, the take marking the id in its script (three before: take, mark, end)", async () => {
    const { send, marksKey, countKey } = stores();
    const cibilId = "102288100";
    let during: [number, string | null] | undefined;
    const commands = await commandsOf(async () => {
      const sent = await send(cibilId, {
        token: "TOKEN-A",
        during: async () => {
          // The test's own reads, not the send's: not recorded.
          recorder.recording = false;
          during = [await redis.zcard(marksKey(cibilId)), await redis.get(countKey(cibilId))];
          recorder.recording = true;
        },
      });
      expect(sent.outcome.kind).toBe("sent");
      expect(sent.calls).toEqual([true]);
    });
    // The one script took the budgets and marked: its keys are the budgets' and the mark's.
    const scripts = evalshas(commands);
    expect(scripts).toHaveLength(2);
    expect(scripts[0].some((a) => a.includes(":otp:"))).toBe(true);
    expect(scripts[0]).toContain(marksKey(cibilId));
    expect(commands.length).toBe(2);
    // Under way: the member of `regsends:` and the versions before's `regsend:` count; both gone after it.
    expect(during).toEqual([1, "1"]);
    expect(await redis.exists(marksKey(cibilId), countKey(cibilId))).toBe(0);
  });

  it("throttled by the id's cooldown: nothing written (no mark, no count), one script", async () => {
    const { send, marksKey, countKey } = stores();
    const cibilId = "102288101";
    expect((await send(cibilId)).outcome.kind).toBe("sent");
    const commands = await commandsOf(async () => {
      expect((await send(cibilId)).outcome).toMatchObject({ kind: "throttled", code: "OTP_COOLDOWN" });
    });
    expect(commands.map((c) => c[0])).toEqual(["evalsha"]);
    expect(await redis.exists(marksKey(cibilId), countKey(cibilId))).toBe(0);
  });

  it("a send after a throttled one: the throttled take ended its send in this process, the member goes at the end", async () => {
    const { send, marksKey } = stores({ config: throttleConfig({ cooldownSeconds: 1 }) });
    const cibilId = "102288102";
    expect((await send(cibilId)).outcome.kind).toBe("sent");
    expect((await send(cibilId)).outcome).toMatchObject({ kind: "throttled" });
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    let during = -1;
    const sent = await send(cibilId, { during: async () => void (during = await redis.zcard(marksKey(cibilId))) });
    expect(sent.outcome.kind).toBe("sent");
    expect(during).toBe(1);
    // Its `sent` was the last of this process's sends to the id: the member removed, not left to expire.
    expect(await redis.exists(marksKey(cibilId))).toBe(0);
  });

  it("a take whose reply is lost: refused unavailable, no call, and the mark Redis made ended (not left 2 min)", async () => {
    const { send, marksKey, countKey } = stores({ config: throttleConfig({ cooldownSeconds: 1 }) });
    const cibilId = "102288109";
    loseNextScriptReply = true;
    const lost = await send(cibilId);
    expect(loseNextScriptReply).toBe(false);
    // Nothing reached AOPay: the store's outcome unknown refuses the send (fail closed).
    expect(lost.outcome.kind).toBe("unavailable");
    expect(lost.calls).toEqual([]);
    // Redis ran the script, so it marked; its send refused, the mark is ended (ABANDONED), not left to refuse the
    // PAN's registrations OTP_SEND_IN_PROGRESS for its TTL. Not awaited by the send: waited for here.
    const end = Date.now() + 2_000;
    while ((await redis.exists(marksKey(cibilId), countKey(cibilId))) > 0 && Date.now() < end)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await redis.exists(marksKey(cibilId), countKey(cibilId))).toBe(0);
    // The send's entry in the process ended with the take: the next send to the id (once the cooldown the lost take
    // spent has passed) marks and ends as any.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await send(cibilId)).outcome.kind).toBe("sent");
    expect(await redis.exists(marksKey(cibilId), countKey(cibilId))).toBe(0);
  });

  it("a take that failed before Redis ran it: no count lowered (an older version's send stays under way)", async () => {
    const { send, marksKey, countKey } = stores();
    const cibilId = "102288110";
    // An older version's send under way: its `regsend:` count alone.
    await redis.set(countKey(cibilId), "1", "PX", SEND_MARK_TTL_MS);
    failNextScript = true;
    const failed = await send(cibilId);
    expect(failNextScript).toBe(false);
    expect(failed.outcome.kind).toBe("unavailable");
    expect(failed.calls).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Lowered, the older version's send was no longer under way: a registration of the PAN let through meanwhile.
    expect(await redis.get(countKey(cibilId))).toBe("1");
    expect(await redis.exists(marksKey(cibilId))).toBe(0);
  });

  it("the mark and the records read in one script: the send recalls a mobile registered before it", async () => {
    const { send, registered } = stores();
    const cibilId = "102288103";
    await registered.remember(cibilId, MOBILE, "ABCDE2103F");
    const sent = await send(cibilId);
    expect(sent.outcome.kind).toBe("sent");
    expect(sent.recalled).toEqual([MOBILE]);
  });

  it("a registration of the id's PAN while the send is under way sees the take's mark: refused", async () => {
    const { send, registered } = stores();
    const cibilId = "102288104";
    const pan = "ABCDE2104F";
    await registered.remember(cibilId, MOBILE, pan);
    let refusal: unknown;
    const sent = await send(cibilId, {
      during: async () => {
        try {
          await registered.registering(registered.pan(pan), OTHER_MOBILE, randomUUID());
        } catch (error) {
          refusal = error;
        }
      },
    });
    expect(sent.outcome.kind).toBe("sent");
    expect(refusal).toBeInstanceOf(RegistrationRaceError);
    // Once ended, the same registration goes.
    await expect(registered.registering(registered.pan(pan), OTHER_MOBILE, randomUUID())).resolves.toBeUndefined();
  });

  it("rolling update: an older version's `regsend:` count is raised, not prolonged, and read back by it", async () => {
    const { send, countKey } = stores();
    const cibilId = "102288105";
    // A send of the version before under way: its count, with the TTL it sets (SEND_MARK_TTL_MS).
    await redis.set(countKey(cibilId), "1", "PX", 30_000);
    let during: [string | null, number] | undefined;
    const sent = await send(cibilId, {
      during: async () => {
        during = [await redis.get(countKey(cibilId)), await redis.pttl(countKey(cibilId))];
      },
    });
    expect(sent.outcome.kind).toBe("sent");
    // The older version reads a count above zero as a send under way: two now (its send and this one).
    expect(during?.[0]).toBe("2");
    expect(during?.[1]).toBeLessThanOrEqual(30_000);
    expect(during?.[1]).toBeGreaterThan(0);
    // This send's end takes its own back: the older version's send still counts.
    expect(await redis.get(countKey(cibilId))).toBe("1");
  });

  it("a record of another type: refused (ForeignRecordError), the mark ended, the send's points given back", async () => {
    const { send, registered, marksKey, countKey } = stores();
    const cibilId = "102288106";
    await redis.hset(registered.redisKey(cibilId), "x", "1");
    const refused = await send(cibilId);
    expect(refused.outcome).toEqual({ kind: "unavailable" });
    expect(refused.calls).toEqual([]);
    expect(await redis.exists(marksKey(cibilId), countKey(cibilId))).toBe(0);
    // The id's cooldown was given back: once the record is readable the send goes at once.
    await redis.del(registered.redisKey(cibilId));
    expect((await send(cibilId)).outcome.kind).toBe("sent");
  });

  it("the refusal names the foreign record", async () => {
    const { registered } = stores();
    const cibilId = "102288107";
    await redis.hset(registered.redisKey(cibilId), "x", "1");
    const error = await Promise.resolve(registered.sending(cibilId)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtectionStoreError);
    expect((error as ProtectionStoreError).cause).toBeInstanceOf(ForeignRecordError);
  });

  it("during an HMAC_SECRET rotation the previous secret's mark is a script of its own", async () => {
    const { send, marksKey } = stores({ previous: true });
    const cibilId = "102288108";
    let during: number[] = [];
    const commands = await commandsOf(async () => {
      const sent = await send(cibilId, {
        during: async () => {
          during = [await redis.zcard(marksKey(cibilId)), await redis.zcard(marksKey(cibilId, PREVIOUS))];
        },
      });
      expect(sent.outcome.kind).toBe("sent");
    });
    expect(during).toEqual([1, 1]);
    const scripts = evalshas(commands);
    const taking = scripts.filter((c) => c.some((a) => a.includes(":otp:")));
    expect(taking).toHaveLength(1);
    expect(taking[0]).toContain(marksKey(cibilId));
    expect(taking[0]).not.toContain(marksKey(cibilId, PREVIOUS));
    expect(scripts.filter((c) => c.includes(marksKey(cibilId, PREVIOUS)))).toHaveLength(2); // its mark, its end
  });
});

describe("the in-memory store makes no mark for a take", () => {
  it("has no sendMark: `sending` marks as before", () => {
    const store = new MemoryRegisteredMobileStore(hasher, sealer, { maxKeys: 10 });
    expect((store as { sendMark?: unknown }).sendMark).toBeUndefined();
  });
});
