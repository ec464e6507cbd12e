import type Redis from "ioredis";
import { AopayUnavailableError } from "../../src/aopay/errors";
import type { SendPass } from "../../src/aopay/send-pass";
import { ProtectionStoreError } from "../../src/protection/errors";
import {
  type IdempotencyStore,
  MemoryIdempotencyStore,
  RedisIdempotencyStore,
} from "../../src/protection/idempotency-store";
import { MemoryRegisteredMobileStore } from "../../src/protection/memory-registered-mobiles";
import { OtpThrottle } from "../../src/protection/otp-throttle";
import { RedisRegisteredMobileStore } from "../../src/protection/redis-registered-mobiles";
import type { RegisteredMobileStore } from "../../src/protection/registered-mobiles";
import type { SendOutcome } from "../../src/protection/send-guard";
import { isPromiseLike } from "../../src/util/promise-like";
import {
  type CommandRecorder,
  connectRedis,
  deleteKeys,
  REDIS_SKIP_REASON,
  recordCommands,
  uniquePrefix,
} from "../helpers/redis";
import { d, hasher, request, sealer, setup } from "../helpers/send-guard";
import { throttleConfig } from "../helpers/throttle";

/**
 * generateCibilOtp's order of protection steps (src/protection/send-guard.ts): the Idempotency-Key claimed first, then
 * the budgets that need nothing recalled (the CIBIL id's, the IP's, the client's, the global one), then the send mark
 * and the recall of the id's registered mobiles (RegisteredMobileStore.sending, as graphql/guarded-send.ts prepareOf
 * makes it), then the mobiles' own budgets. A request its budgets refuse writes nothing to the stores; the two steps
 * never let two concurrent sends through one cooldown. On the real stores, in memory and (with REDIS_URL) in Redis:
 * the Redis commands the guard sends are recorded on its own connection, with their keys.
 */

const MOBILE = "9876512345";
const CLIENT = "app";

type Backend = "memory" | "redis";
const BACKENDS: Array<[Backend, string | null]> = [
  ["memory", null],
  ["redis", REDIS_SKIP_REASON],
];

describe.each(BACKENDS)("generateCibilOtp's budgets before its send mark (%s)", (backend, skip) => {
  const maybe = skip === null ? it : it.skip;
  let redis: Redis | undefined;
  const prefix = uniquePrefix();
  /** The commands sent on the stores' connection (name and arguments), in Redis. */
  let recorder: CommandRecorder | undefined;

  beforeAll(async () => {
    if (backend !== "redis" || skip !== null) return;
    redis = await connectRedis();
    recorder = recordCommands(redis, { keys: true });
  });
  afterAll(async () => {
    if (!redis) return;
    await deleteKeys(redis, prefix);
    await redis.quit();
  });

  /** The stores of one test (a prefix of its own in Redis), and a counter of the send marks made. */
  function stores(config = throttleConfig()) {
    const sub = `${prefix}${Math.random().toString(36).slice(2, 8)}:`;
    const throttle = new OtpThrottle(config, hasher, redis ? { redis, keyPrefix: sub } : null);
    const idempotency: IdempotencyStore = redis
      ? new RedisIdempotencyStore(redis, sub, sealer)
      : new MemoryIdempotencyStore(sealer);
    const registered: RegisteredMobileStore = redis
      ? new RedisRegisteredMobileStore(redis, sub, hasher, sealer)
      : new MemoryRegisteredMobileStore(hasher, sealer, { maxKeys: 1000 });
    const { guard } = setup({ throttle, idempotency });
    const counts = { marks: 0 };

    /**
     * One generateCibilOtp as guardedSend runs it: `prepare` marks the id as sending and recalls its mobiles
     * (prepareOf), the mark is taken off once the guard is done. `recall: false`: a request with nothing to recall.
     */
    async function send(
      cibilId: string,
      options: {
        key?: string;
        answer?: (pass: SendPass) => Promise<string>;
        recall?: boolean;
        beforeMark?: () => Promise<void>;
      } = {},
    ): Promise<{ outcome: SendOutcome<string>; calls: boolean[] }> {
      const r = request({ key: options.key, input: { cibilId }, answer: options.answer });
      r.req.subject = { destinations: [{ kind: "cibil", value: cibilId }], ip: "203.0.113.7", clientId: CLIENT };
      const marked: string[] = [];
      if (options.recall !== false)
        r.req.prepare = async () => {
          await options.beforeMark?.();
          counts.marks++;
          let found = registered.sending(cibilId);
          if (isPromiseLike(found)) found = await found;
          marked.push(cibilId);
          return found.map((value) => ({ kind: "mobile" as const, value }));
        };
      try {
        return { outcome: await guard.run(r.req), calls: r.calls };
      } finally {
        for (const id of marked) await registered.sent(id);
      }
    }
    return { send, registered, counts };
  }

  /** The commands `step` sends to Redis (none in memory). */
  async function commandsOf(step: () => Promise<unknown>): Promise<string[][]> {
    if (recorder) return recorder.during(step);
    await step();
    return [];
  }
  /** A command touching the registered-mobile store (its records, its send marks). */
  const registeredMobileWrite = (command: string[]) => command.some((arg) => /:reg(send|sends|mobiles?):/.test(arg));

  maybe(
    "OtpThrottle.reserve(destinationsOnly): the destinations' budgets and prefixes, no IP, client or global",
    async () => {
      const one = { points: 1, seconds: 60 };
      const sub = `${prefix}only:`;
      const throttle = new OtpThrottle(
        throttleConfig({ mobilePrefix: one, ip: one, client: one, global: one }),
        hasher,
        redis ? { redis, keyPrefix: sub } : null,
      );
      const who = { ip: "203.0.113.9", clientId: CLIENT };
      const mobile = (value: string) => ({ ...who, destinations: [{ kind: "mobile" as const, value }] });
      const cibil = (value: string) => ({ ...who, destinations: [{ kind: "cibil" as const, value }] });
      expect((await throttle.reserve(mobile(MOBILE), "send", true)).allowed).toBe(true);
      expect(await throttle.reserve(mobile(MOBILE), "send", true)).toMatchObject({ code: "OTP_COOLDOWN" });
      // Another number of the range: the prefix's one point is taken.
      expect(await throttle.reserve(mobile("9876512346"), "send", true)).toMatchObject({ scope: "MOBILE_PREFIX" });
      // The IP's, the client's and the global single points are all still there, for one whole send.
      expect((await throttle.reserve(cibil("102277500"))).allowed).toBe(true);
      expect(await throttle.reserve(cibil("102277501"))).toMatchObject({ code: "RATE_LIMITED" });
    },
  );

  maybe("throttled by the CIBIL id's cooldown: no send mark, no recall; one throttle script in Redis", async () => {
    const { send, registered, counts } = stores();
    await registered.remember("102277100", MOBILE, "ABCDE1234F");
    expect((await send("102277100")).outcome.kind).toBe("sent");
    expect(counts.marks).toBe(1);
    let second: Awaited<ReturnType<typeof send>> | undefined;
    const commands = await commandsOf(async () => (second = await send("102277100")));
    expect(second?.outcome).toMatchObject({ kind: "throttled", code: "OTP_COOLDOWN", scope: "DESTINATION" });
    expect(second?.calls).toEqual([]);
    expect(counts.marks).toBe(1);
    if (redis) {
      expect(commands.filter(registeredMobileWrite)).toEqual([]);
      // The throttle's one script, which refused and left nothing (redis-budgets.ts).
      expect(commands.map((c) => c[0])).toEqual(["evalsha"]);
    }
  });

  maybe("throttled by the client's budget: no send mark", async () => {
    const { send, registered, counts } = stores(throttleConfig({ client: { points: 1, seconds: 60 } }));
    await registered.remember("102277100", MOBILE, "ABCDE1234F");
    expect((await send("102277100")).outcome.kind).toBe("sent");
    let second: Awaited<ReturnType<typeof send>> | undefined;
    const commands = await commandsOf(async () => (second = await send("102277101")));
    expect(second?.outcome).toMatchObject({ kind: "throttled", code: "RATE_LIMITED", scope: "CLIENT" });
    expect(counts.marks).toBe(1);
    expect(commands.filter(registeredMobileWrite)).toEqual([]);
  });

  maybe("a throttled keyed request claims and frees its key (by design), and marks nothing", async () => {
    const { send, registered, counts } = stores();
    await registered.remember("102277100", MOBILE, "ABCDE1234F");
    expect((await send("102277100")).outcome.kind).toBe("sent");
    let second: Awaited<ReturnType<typeof send>> | undefined;
    const commands = await commandsOf(async () => (second = await send("102277100", { key: "k-throttled" })));
    expect(second?.outcome).toMatchObject({ kind: "throttled", code: "OTP_COOLDOWN" });
    expect(counts.marks).toBe(1);
    expect(commands.filter(registeredMobileWrite)).toEqual([]);
    if (redis) expect(commands.length).toBe(3); // the claim, the throttle's script, the release
    // The key was freed: the same request again is judged again (throttled), neither in flight nor replayed.
    expect((await send("102277100", { key: "k-throttled" })).outcome).toMatchObject({ kind: "throttled" });
  });

  maybe("the recalled mobile's budget refuses: the id's, IP's, client's and global points are given back", async () => {
    const { send, registered, counts } = stores(throttleConfig({ client: { points: 2, seconds: 60 } }));
    await registered.remember("102277100", MOBILE, "ABCDE1234F");
    await registered.remember("102277101", MOBILE, "ABCDE1235F");
    expect((await send("102277100")).outcome.kind).toBe("sent");
    // The mobile's cooldown, known only once recalled: the one case a refused send has made its mark.
    const refused = await send("102277101");
    expect(refused.outcome).toMatchObject({ kind: "throttled", code: "OTP_COOLDOWN", scope: "DESTINATION" });
    expect(counts.marks).toBe(2);
    // Its CIBIL id's cooldown was given back: a send to it that recalls nothing goes.
    expect((await send("102277101", { recall: false })).outcome.kind).toBe("sent");
    // And its client point: the client's two are the two sends that went.
    expect((await send("102277102", { recall: false })).outcome).toMatchObject({ code: "RATE_LIMITED" });
  });

  maybe("a call that never left gives back both steps' points: the id and its mobile take a send at once", async () => {
    const { send, registered } = stores();
    await registered.remember("102277100", MOBILE, "ABCDE1234F");
    const unsent = await send("102277100", {
      answer: async () => Promise.reject(new AopayUnavailableError("circuit open", { ...d, sent: false })),
    });
    expect(unsent.outcome).toEqual({ kind: "sent", result: "failure:UPSTREAM_UNAVAILABLE" });
    expect((await send("102277100")).outcome.kind).toBe("sent");
  });

  maybe("the store failing in the recall gives back the points taken before it: nothing was sent", async () => {
    const { send, registered } = stores();
    await registered.remember("102277100", MOBILE, "ABCDE1234F");
    const failed = await send("102277100", {
      beforeMark: async () => {
        throw new ProtectionStoreError("registered mobile", new Error("down"));
      },
    });
    expect(failed.outcome).toEqual({ kind: "unavailable" });
    expect(failed.calls).toEqual([]);
    expect((await send("102277100")).outcome.kind).toBe("sent");
  });

  // Two reservations per send: each budget is still judged in one of them, atomically, so concurrent sends cannot
  // both pass a cooldown, the id's (first step) or the mobile's (second step). The recall waits a turn of the event
  // loop, so that in memory too every send takes its first step before any takes its second.
  const yieldTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

  maybe("eight concurrent sends to one CIBIL id: one goes, seven meet its cooldown", async () => {
    const { send, registered, counts } = stores();
    await registered.remember("102277100", MOBILE, "ABCDE1234F");
    const all = await Promise.all(Array.from({ length: 8 }, () => send("102277100", { beforeMark: yieldTurn })));
    expect(all.filter((s) => s.outcome.kind === "sent")).toHaveLength(1);
    for (const s of all.filter((s) => s.outcome.kind !== "sent"))
      expect(s.outcome).toMatchObject({ kind: "throttled", code: "OTP_COOLDOWN", scope: "DESTINATION" });
    expect(all.flatMap((s) => s.calls)).toEqual([true]);
    // The seven refused in the first step marked nothing.
    expect(counts.marks).toBe(1);
  });

  maybe(
    "eight concurrent sends to eight CIBIL ids registered with one mobile: one goes; the others' points go back",
    async () => {
      const { send, registered, counts } = stores(throttleConfig({ client: { points: 9, seconds: 60 } }));
      const ids = Array.from({ length: 8 }, (_, i) => String(102277200 + i));
      for (const [i, id] of ids.entries()) await registered.remember(id, MOBILE, `ABCDE${1000 + i}F`);
      const all = await Promise.all(ids.map((id) => send(id, { beforeMark: yieldTurn })));
      // Every one passed its own id's budgets and recalled the mobile; its cooldown let one through.
      expect(counts.marks).toBe(8);
      expect(all.filter((s) => s.outcome.kind === "sent")).toHaveLength(1);
      for (const s of all.filter((s) => s.outcome.kind !== "sent"))
        expect(s.outcome).toMatchObject({ kind: "throttled", code: "OTP_COOLDOWN", scope: "DESTINATION" });
      expect(all.flatMap((s) => s.calls)).toEqual([true]);
      // Every refused send gave its client point back: eight of the nine left, for eight more sends.
      for (let i = 0; i < 8; i++)
        expect((await send(String(102277300 + i), { recall: false })).outcome.kind).toBe("sent");
      expect((await send("102277399", { recall: false })).outcome).toMatchObject({ code: "RATE_LIMITED" });
    },
  );

  maybe(
    "five concurrent requests with one Idempotency-Key: one sends, the others are told it is in flight",
    async () => {
      const { send, registered } = stores();
      await registered.remember("102277100", MOBILE, "ABCDE1234F");
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const first = send("102277100", { key: "k-same", answer: async () => held.then(() => "ok") });
      // The others come while the first's call is upstream (its cooldown taken, its key pending).
      await new Promise((resolve) => setTimeout(resolve, 50));
      const others = await Promise.all(Array.from({ length: 4 }, () => send("102277100", { key: "k-same" })));
      // Told about one upstream call: the first's request still runs.
      for (const other of others) expect(other.outcome).toEqual({ kind: "in-flight", retryAfterMs: 2_000 });
      release();
      expect((await first).outcome.kind).toBe("sent");
    },
  );
});
