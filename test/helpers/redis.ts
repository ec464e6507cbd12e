import { randomUUID } from "node:crypto";
import Redis from "ioredis";

/** Redis-backed tests run only when REDIS_URL is set (`.ci/run` sets it); the rest of the suite never needs Redis. */
export const REDIS_URL = process.env.REDIS_URL;
/** Why the Redis-backed tests are skipped, or null when they run: said in the skipped test's name. */
export const REDIS_SKIP_REASON = REDIS_URL
  ? null
  : "skipped: REDIS_URL is not set, e.g. REDIS_URL=redis://127.0.0.1:6379";

/** `describe` when `skipReason` is null; else `describe.skip`, with the reason in the name so the report says why. */
export function describeUnless(skipReason: string | null, name: string, fn: () => void): void {
  if (skipReason === null) describe(name, fn);
  else describe.skip(`${name} [${skipReason}]`, fn);
}

/** A describe block that needs Redis at REDIS_URL. */
export function describeWithRedis(name: string, fn: () => void): void {
  describeUnless(REDIS_SKIP_REASON, name, fn);
}

/** A test that needs Redis at REDIS_URL; skipped with the reason in its name otherwise. */
export function itWithRedis(name: string, fn: () => Promise<void>, timeoutMs?: number): void {
  if (REDIS_SKIP_REASON === null) it(name, fn, timeoutMs);
  else it.skip(`${name} [${REDIS_SKIP_REASON}]`, fn, timeoutMs);
}

/** A key prefix of its own per test file, so parallel suites and earlier runs never meet. */
export function uniquePrefix(): string {
  return `aopay-gql-test:${randomUUID()}:`;
}

/** Every key (and its whole value, whatever its type) under `prefix`. */
export async function dumpKeys(redis: Redis, prefix: string): Promise<Array<{ key: string; value: string }>> {
  const out: Array<{ key: string; value: string }> = [];
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
    cursor = next;
    for (const key of keys) out.push({ key, value: await valueOf(redis, key) });
  } while (cursor !== "0");
  return out;
}

async function valueOf(redis: Redis, key: string): Promise<string> {
  switch (await redis.type(key)) {
    case "string":
      return (await redis.get(key)) ?? "";
    case "hash":
      return JSON.stringify(await redis.hgetall(key));
    case "list":
      return JSON.stringify(await redis.lrange(key, 0, -1));
    case "set":
      return JSON.stringify(await redis.smembers(key));
    case "zset":
      return JSON.stringify(await redis.zrange(key, 0, -1, "WITHSCORES"));
    case "stream":
      return JSON.stringify(await redis.xrange(key, "-", "+"));
    default:
      // Gone since the scan ("none"), or a module type: its serialized form.
      return ((await redis.dumpBuffer(key)) ?? Buffer.alloc(0)).toString("latin1");
  }
}

/** A connection of the test's own to REDIS_URL, ready for commands (close it with `quit`). */
export async function connectRedis(): Promise<Redis> {
  if (!REDIS_URL) throw new Error("connectRedis needs REDIS_URL (use describeWithRedis or itWithRedis)");
  const redis = new Redis(REDIS_URL);
  await new Promise((resolve) => redis.once("ready", resolve));
  return redis;
}

/** Deletes every key under each prefix, on a connection of its own: a test's clean-up once its stacks have stopped. */
export async function deletePrefixes(prefixes: Iterable<string>): Promise<void> {
  const redis = await connectRedis();
  try {
    for (const prefix of prefixes) await deleteKeys(redis, prefix);
  } finally {
    await redis.quit();
  }
}

export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  const keys = (await dumpKeys(redis, prefix)).map((k) => k.key);
  if (keys.length > 0) await redis.del(...keys);
}

/** What `recordCommands(redis, { keys: true })` records: each command with its arguments, only while asked to. */
export interface CommandRecorder {
  /** The commands recorded, in order, each as [name, ...arguments] (a script's keys and arguments as strings). */
  commands: string[][];
  /** Whether a command sent now is recorded (unset at first; a test's own reads inside `during` unset it). */
  recording: boolean;
  /** The commands `step` sends, alone: the list cleared, then recorded while `step` runs. */
  during(step: () => Promise<unknown>): Promise<string[][]>;
}

/**
 * The commands `redis` sends from now on (its own sendCommand, which every command and script call goes through), in
 * order: a count of round trips made by the code under test on a connection of the test's own. By default every
 * command's name; with `{ keys: true }` a recorder of each command with its arguments (the keys a script touched),
 * recording only inside `during`. A wrapper the test puts on sendCommand before (a fault it injects) runs after the
 * recording: a command it fails is recorded as sent.
 */
export function recordCommands(redis: Redis): string[];
export function recordCommands(redis: Redis, options: { keys: true }): CommandRecorder;
export function recordCommands(redis: Redis, options?: { keys: true }): string[] | CommandRecorder {
  const names: string[] = [];
  const recorder: CommandRecorder = {
    commands: [],
    recording: false,
    async during(step) {
      recorder.commands = [];
      recorder.recording = true;
      try {
        await step();
      } finally {
        recorder.recording = false;
      }
      return recorder.commands;
    },
  };
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = ((...args: Parameters<Redis["sendCommand"]>) => {
    const command = args[0];
    names.push(command.name);
    if (recorder.recording) recorder.commands.push([command.name, ...command.args.map((a) => String(a))]);
    return send(...args);
  }) as Redis["sendCommand"];
  return options?.keys ? recorder : names;
}

/**
 * The stores a stack can keep its budgets and records in, for `describe.each`: [name, skip reason (null: run), the
 * environment that selects it]. Redis gets a fresh key prefix per call and the HMAC secret given.
 */
export function storeBackends(hmacSecret: string): Array<[string, string | null, () => Record<string, string>]> {
  return [
    ["in memory", null, () => ({})],
    [
      "in Redis",
      REDIS_SKIP_REASON,
      () => ({ REDIS_URL: REDIS_URL as string, REDIS_KEY_PREFIX: uniquePrefix(), HMAC_SECRET: hmacSecret }),
    ],
  ];
}
