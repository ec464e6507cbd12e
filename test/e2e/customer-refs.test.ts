import { execFileSync, spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { request } from "undici";
import { KeyHasher } from "../../src/protection/key-hasher";
import { registrationInput } from "../helpers/identifiers";
import {
  CIBIL_CREDIT_HISTORY,
  GENERATE_CIBIL_OTP,
  REGISTER_CIBIL_CUSTOMER,
  RESEND_AEPS_OTP,
  SUBMIT_CIBIL_OTP,
  VERIFY_AEPS_OTP,
  aepsInput,
  VALID_AADHAAR,
} from "../helpers/operations";
import { deleteKeys, itWithRedis, REDIS_URL, uniquePrefix } from "../helpers/redis";
import { LENIENT_THROTTLE, startTestStack, type GqlResponse, type TestStack } from "../helpers/stack";
import Redis from "ioredis";

/**
 * The customer references on the access lines (src/protection/customer-refs.ts, docs/operations.md "Finding a
 * customer's requests"): the same customer however spelled has one reference per identifier, another customer
 * another, and `npm run customer-ref` prints what the log carries, for every kind. Against the simulator.
 */
const ROOT = join(__dirname, "../..");
const SECRET = "customer-ref-e2e-secret-0123456789abcdefghij";
/** A second valid Aadhaar number (Verhoeff), as test/e2e/pii-logging.test.ts's canary. */
const OTHER_AADHAAR = "999971658847";
const REF = /^[mapcu]_[bcdfghjkmnpqrstv]{16}$/;

let t: TestStack;
const answers: string[] = [];

beforeAll(async () => {
  t = await startTestStack({ ...LENIENT_THROTTLE, HMAC_SECRET: SECRET });
  // `npm run customer-ref` compiles dist/ when stale first (scripts/build-if-stale.js): the same step, once, here.
  execFileSync(process.execPath, [join(ROOT, "scripts/build-if-stale.js"), "--only", "server"], { stdio: "ignore" });
}, 120_000);
afterAll(() => t.stop());

/** Sends one request: its answer and its access line's references (waiting for the line, written once answered). */
async function send(
  query: string,
  variables: Record<string, unknown>,
  on: TestStack = t,
): Promise<{ res: GqlResponse; refs: string[] }> {
  const res: GqlResponse = await on.gql(query, variables);
  answers.push(res.text, JSON.stringify(res.headers));
  const id = res.headers["x-request-id"];
  for (let i = 0; i < 100; i++) {
    const line = on.logs.records().find((r) => r.requestId === id && r.msg === "request completed");
    if (line) return { res, refs: (line.refs as string[] | undefined) ?? [] };
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("no access line");
}
const refsOf = async (query: string, variables: Record<string, unknown>) => (await send(query, variables)).refs;
const ofKind = (refs: string[], prefix: string) => refs.filter((r) => r.startsWith(`${prefix}_`));

/** `npm run customer-ref`'s lines for the identifier on its stdin (never an argument), as { kind: reference }. */
function cli(
  identifier: string,
  env: Record<string, string | undefined> = { HMAC_SECRET: SECRET },
  args: string[] = [],
) {
  const run = spawnSync(process.execPath, [join(ROOT, "scripts/customer-ref.js"), ...args], {
    input: `${identifier}\n`,
    encoding: "utf8",
    env: { PATH: process.env.PATH, ...env },
  });
  const refs: Record<string, string> = {};
  for (const line of run.stdout.split("\n").filter(Boolean)) {
    const [kind, ref] = line.trim().split(/\s+/);
    refs[kind] = ref;
  }
  return { status: run.status, stdout: run.stdout, stderr: run.stderr, refs };
}

const registration = (pan: string, mobile: string) => ({ input: registrationInput({ pan, mobile }) });

describe("customer references on the access line", () => {
  it("AEPS: one Aadhaar number however spelled, one mobile, one user key in either case share their references", async () => {
    const plain = await refsOf(RESEND_AEPS_OTP, aepsInput("9876543210"));
    const grouped = await refsOf(
      RESEND_AEPS_OTP,
      aepsInput("9876543210", { aadhaar: "2341 2341 2346", userKey: "aop554n3xxxx" }),
    );
    const verify = await refsOf(VERIFY_AEPS_OTP, { input: { ...aepsInput("9876543210").input, otp: "123456" } });
    expect(plain).toHaveLength(3);
    for (const ref of plain) expect(ref).toMatch(REF);
    expect(grouped).toEqual(plain);
    expect(verify).toEqual(plain);
    // Another customer: another mobile, another Aadhaar number, another user key; nothing shared.
    const other = await refsOf(
      RESEND_AEPS_OTP,
      aepsInput("9812345678", { aadhaar: OTHER_AADHAAR, userKey: "AOP554N3YYYY" }),
    );
    expect(other).toHaveLength(3);
    for (const ref of other) expect(plain).not.toContain(ref);
    const cliRefs = cli("2341 2341 2346").refs;
    expect(cliRefs.aadhaar).toBe(ofKind(plain, "a")[0]);
    expect(cli(VALID_AADHAAR).refs.aadhaar).toBe(ofKind(plain, "a")[0]);
    expect(cli("9876543210").refs.mobile).toBe(ofKind(plain, "m")[0]);
    expect(cli("aop554n3xxxx").refs["aeps-user"]).toBe(ofKind(plain, "u")[0]);
    expect(cli(OTHER_AADHAAR).refs.aadhaar).toBe(ofKind(other, "a")[0]);
  });

  it("CIBIL: the PAN in either case, the mobile, the CIBIL id AOPay gave and its spellings; the registered mobile on each send", async () => {
    const { res, refs: registered } = await send(REGISTER_CIBIL_CUSTOMER, registration("abcpe1234f", "9876543210"));
    const { cibilId, accessToken } = (res.body.data as { registerCibilCustomer: Record<string, string> })
      .registerCibilCustomer;
    expect(registered.map((r) => r[0]).sort()).toEqual(["c", "m", "p"]);

    const upper = await refsOf(REGISTER_CIBIL_CUSTOMER, registration("ABCPE1234F", "9876543210"));
    expect(ofKind(upper, "p")).toEqual(ofKind(registered, "p"));
    expect(ofKind(upper, "m")).toEqual(ofKind(registered, "m"));
    const otherPan = await refsOf(REGISTER_CIBIL_CUSTOMER, registration("ABCPF1234G", "9812345678"));
    expect(ofKind(otherPan, "p")).not.toEqual(ofKind(registered, "p"));
    expect(ofKind(otherPan, "m")).not.toEqual(ofKind(registered, "m"));

    // The send names the CIBIL id and the mobile the OTP goes to (the one registered with it).
    const sent = await refsOf(GENERATE_CIBIL_OTP, { input: { cibilId, accessToken } });
    expect(sent.sort()).toEqual([...ofKind(registered, "c"), ...ofKind(registered, "m")].sort());
    const zeros = await refsOf(GENERATE_CIBIL_OTP, { input: { cibilId: `00${cibilId}`, accessToken } });
    expect(ofKind(zeros, "c")).toEqual(ofKind(registered, "c"));
    const submit = await refsOf(SUBMIT_CIBIL_OTP, {
      input: { cibilId: `0${cibilId}`, accessToken, otp: "123456", questionKey: "q", answerKey: "a" },
    });
    expect(submit).toEqual(ofKind(registered, "c"));
    expect(await refsOf(CIBIL_CREDIT_HISTORY, { cibilId })).toEqual(ofKind(registered, "c"));
    const otherId = await refsOf(GENERATE_CIBIL_OTP, { input: { cibilId: "102277100", accessToken: "tok102277100" } });
    expect(ofKind(otherId, "c")).not.toEqual(ofKind(registered, "c"));

    expect(cli("abcpe1234f").refs.pan).toBe(ofKind(registered, "p")[0]);
    expect(cli(`0${cibilId}`).refs.cibil).toBe(ofKind(registered, "c")[0]);
    expect(cli("9876543210").refs.mobile).toBe(ofKind(registered, "m")[0]);
  });

  itWithRedis(
    "with Redis: the same references, the registered mobile recalled from Redis on the CIBIL send",
    async () => {
      const prefix = uniquePrefix();
      const shared = await startTestStack({
        ...LENIENT_THROTTLE,
        HMAC_SECRET: SECRET,
        REDIS_URL: REDIS_URL as string,
        REDIS_KEY_PREFIX: prefix,
      });
      try {
        const { res, refs: registered } = await send(
          REGISTER_CIBIL_CUSTOMER,
          registration("ABCPE1234F", "9876543210"),
          shared,
        );
        const { cibilId, accessToken } = (res.body.data as { registerCibilCustomer: Record<string, string> })
          .registerCibilCustomer;
        expect(ofKind(registered, "m")).toEqual([cli("9876543210").refs.mobile]);
        expect(ofKind(registered, "p")).toEqual([cli("ABCPE1234F").refs.pan]);
        const sent = (await send(GENERATE_CIBIL_OTP, { input: { cibilId, accessToken } }, shared)).refs;
        expect(sent.sort()).toEqual([cli(cibilId).refs.cibil, cli("9876543210").refs.mobile].sort());
        const aeps = (await send(RESEND_AEPS_OTP, aepsInput("9876543210"), shared)).refs;
        expect(aeps).toEqual([
          cli("9876543210").refs.mobile,
          cli(VALID_AADHAAR).refs.aadhaar,
          cli("AOP554N3XXXX").refs["aeps-user"],
        ]);
      } finally {
        await shared.stop();
        const redis = new Redis(REDIS_URL as string);
        await deleteKeys(redis, prefix);
        await redis.quit();
      }
    },
  );

  it("a reference is not the store's key of the same value (another key), and is in no answer, header or metric", async () => {
    const refs = t.logs
      .records()
      .flatMap((r) => (r.msg === "request completed" ? ((r.refs as string[] | undefined) ?? []) : []));
    expect(refs.length).toBeGreaterThan(10);
    // HMAC_SECRET's own HMAC of the mobile, as the throttle keys it (any dimension): not the reference.
    const hasher = new KeyHasher(Buffer.from(SECRET, "utf8"));
    const mobileRef = cli("9876543210").refs.mobile.slice(2);
    for (const dimension of ["mobile", "destination:mobile", ""])
      expect(hasher.hash(dimension, "9876543210", "hex")).not.toContain(mobileRef);
    const metrics = await (await request(t.stack.app.metricsUrl as string)).body.text();
    expect(metrics).toContain("aopay_");
    const all = `${answers.join("\n")}\n${metrics}`;
    for (const ref of new Set(refs)) expect(all).not.toContain(ref.slice(2));
  });
});

describe("npm run customer-ref", () => {
  it("refuses to run without HMAC_SECRET, or with one the server would refuse, and never shows the identifier", () => {
    const none = cli("9876543210", {});
    expect(none.status).not.toBe(0);
    expect(none.stdout).toBe("");
    expect(none.stderr).toContain("HMAC_SECRET is not set");
    const short = cli("9876543210", { HMAC_SECRET: "short" });
    expect(short.status).not.toBe(0);
    expect(short.stderr).toContain("at least 32 characters");
    const invalid = cli("+91 98765 43210");
    expect(invalid.status).not.toBe(0);
    expect(invalid.stdout).toBe("");
    for (const run of [none, short, invalid, cli("9876543210"), cli("2341 2341 2346"), cli("abcpe1234f")]) {
      expect(run.stdout + run.stderr).not.toMatch(/98765|2341|abcpe|ABCPE/i);
    }
  });

  it("--hex: the same references in the hex form of lines written before they were letters", () => {
    const run = cli("2341 2341 2346", { HMAC_SECRET: SECRET }, ["--hex"]);
    expect(run.status).toBe(0);
    const [kind, hex] = run.stdout.trim().split(/\s+/);
    expect(kind).toBe("aadhaar");
    expect(hex).toMatch(/^a_[0-9a-f]{16}$/);
    // Letter for hex digit, one for one (protection/customer-refs.ts CUSTOMER_REF_ALPHABET).
    const letters = `a_${[...hex.slice(2)].map((c) => "bcdfghjkmnpqrstv"[parseInt(c, 16)]).join("")}`;
    expect(cli("2341 2341 2346").refs.aadhaar).toBe(letters);
  });

  it("reads the identifier from stdin when none is given (kept out of shell history and the process list)", () => {
    const run = spawnSync(process.execPath, [join(ROOT, "scripts/customer-ref.js")], {
      input: "2341 2341 2346\n",
      encoding: "utf8",
      env: { PATH: process.env.PATH, HMAC_SECRET: SECRET },
    });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(`aadhaar   ${cli(VALID_AADHAAR).refs.aadhaar}\n`);
  });

  // An argument is in every `ps` listing and /proc/<pid>/cmdline while the tool runs, and in the shell's history after.
  // Before, `customer-ref <identifier>` took it there (a mobile, an Aadhaar number, a PAN) and answered.
  it("never takes the identifier as an argument (with --hex or not): refused, unshown, nothing printed", () => {
    for (const args of [["9876543210"], ["--hex", "2341 2341 2346"], ["ABCPE1234F", "--hex"], ["a", "b"]]) {
      const run = spawnSync(process.execPath, [join(ROOT, "scripts/customer-ref.js"), ...args], {
        input: "9876543210\n",
        encoding: "utf8",
        env: { PATH: process.env.PATH, HMAC_SECRET: SECRET },
      });
      expect([args, run.status, run.stdout]).toEqual([args, 2, ""]);
      expect(run.stderr).toContain("not an argument");
      expect(run.stderr).toContain("< file");
      expect(run.stderr).not.toMatch(/98765|2341|abcpe/i);
    }
  });

  it("stdin with blanks around the value or a CRLF line end reads as the clean value (a paste), inner spaces kept", () => {
    const clean = cli(VALID_AADHAAR).stdout;
    expect(clean).toMatch(/^aadhaar/);
    for (const input of [`${VALID_AADHAAR}  `, `${VALID_AADHAAR}\r`, `\t${VALID_AADHAAR} \r`]) {
      expect([JSON.stringify(input), cli(input).stdout]).toEqual([JSON.stringify(input), clean]);
    }
    const spaced = cli("2341 2341 2346 \r");
    expect(spaced.stdout).toMatch(/^aadhaar {3}a_[a-z]{16}\n$/);
  });

  // A reader that stops early (`| head -1`, a pager quit) closes the pipe before the lines are all written. Before: an
  // unhandled EPIPE, a stack trace on stderr and exit 1. Here the pipe's far end is closed at once (as `| true`), or
  // after the first line (as `| head -1`).
  it("a reader that closes the pipe early: exit 0, nothing on stderr, in both modes", async () => {
    const old = "customer-ref-old-secret-0123456789abcdefgh";
    const piped = (args: string[], lines: number) =>
      new Promise<{ status: number | null; stderr: string; first: string }>((resolve) => {
        const child = spawn(process.execPath, [join(ROOT, "scripts/customer-ref.js"), ...args], {
          env: { PATH: process.env.PATH, HMAC_SECRET: SECRET, HMAC_SECRET_PREVIOUS: old },
        });
        let stderr = "";
        let first = "";
        child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
        if (lines === 0) child.stdout.destroy();
        else
          child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
            first ||= chunk.split("\n")[0];
            child.stdout.destroy();
          });
        child.stdin.end("0102277100\n");
        child.on("close", (status) => resolve({ status, stderr, first }));
      });
    for (const args of [[], ["--hex"], ["--consent", "client-a"]]) {
      // A rotation's consent keys come with one line of advice on stderr (mark every key), written before stdout is
      // read: nothing else, no EPIPE trace.
      const said =
        args[0] === "--consent"
          ? "2 keys the server reads: revoke by marking every one: SET <key> revoked PX 86460000\n"
          : "";
      const run = await piped(args, 0);
      expect([args, run.status, run.stderr]).toEqual([args, 0, said]);
      const head = await piped(args, 1);
      expect([args, head.status, head.stderr]).toEqual([args, 0, said]);
      expect(head.first).toMatch(/^(cibil|consent) /);
    }
  });

  it("with HMAC_SECRET_PREVIOUS (a rotation), also the references under each previous secret, marked", () => {
    const old = "customer-ref-old-secret-0123456789abcdefgh";
    // Spaced: valid as an Aadhaar number only (one line per secret).
    const AADHAAR = "2341 2341 2346";
    const run = cli(AADHAAR, { HMAC_SECRET: SECRET, HMAC_SECRET_PREVIOUS: old });
    expect(run.status).toBe(0);
    const [current, before] = [cli(AADHAAR).refs.aadhaar, cli(AADHAAR, { HMAC_SECRET: old }).refs.aadhaar];
    expect(before).not.toBe(current);
    expect(run.stdout).toBe(`aadhaar   ${current}\naadhaar   ${before}  (previous secret 1)\n`);
    const short = cli(AADHAAR, { HMAC_SECRET: SECRET, HMAC_SECRET_PREVIOUS: "short-canary-previous" });
    expect(short.status).toBe(2);
    expect(short.stdout).toBe("");
    expect(short.stderr).toMatch(/HMAC_SECRET_PREVIOUS/);
    expect(short.stderr).not.toContain("short-canary-previous");
  });

  it("with HMAC_SECRET_NEXT or HMAC_SECRET_RETIRED (steps 1 and 4 of a rotation), also the references under those", () => {
    // Step 1: replicas already switched log under the coming secret; step 4: the lines written before the switch are
    // under the retired one. Support must find a customer's lines under either (docs/security.md, the procedure).
    const coming = "customer-ref-next-secret-0123456789abcdefgh";
    const retired = "customer-ref-retired-secret-0123456789abcdef";
    const AADHAAR = "2341 2341 2346";
    const current = cli(AADHAAR).refs.aadhaar;
    const [underNext, underRetired] = [coming, retired].map((s) => cli(AADHAAR, { HMAC_SECRET: s }).refs.aadhaar);
    const next = cli(AADHAAR, { HMAC_SECRET: SECRET, HMAC_SECRET_NEXT: coming });
    expect(next.status).toBe(0);
    expect(next.stdout).toBe(`aadhaar   ${current}\naadhaar   ${underNext}  (next secret)\n`);
    const old = cli(AADHAAR, { HMAC_SECRET: SECRET, HMAC_SECRET_RETIRED: retired });
    expect(old.status).toBe(0);
    expect(old.stdout).toBe(`aadhaar   ${current}\naadhaar   ${underRetired}  (retired secret 1)\n`);
    // The setting left equal to HMAC_SECRET once step 2 is done: no rotation, as the server reads it (config.ts).
    expect(cli(AADHAAR, { HMAC_SECRET: SECRET, HMAC_SECRET_NEXT: SECRET }).stdout).toBe(`aadhaar   ${current}\n`);
    for (const name of ["HMAC_SECRET_NEXT", "HMAC_SECRET_RETIRED"]) {
      const short = cli(AADHAAR, { HMAC_SECRET: SECRET, [name]: "short-canary-other" });
      expect(short.status).toBe(2);
      expect(short.stdout).toBe("");
      expect(short.stderr).toContain(name);
      expect(short.stderr).not.toContain("short-canary-other");
    }
  });

  // The server reads a consent under HMAC_SECRET, HMAC_SECRET_PREVIOUS and HMAC_SECRET_NEXT only
  // (protection/index.ts readHashers): a retired secret's key is not printed (a mark there blocks nothing), only
  // counted on stderr. Before, it was printed among the keys, and an operator who marked it alone revoked nothing.
  it("--consent during a rotation: stdout is the keys the server reads, the retired secret's counted apart", () => {
    const env = {
      HMAC_SECRET: SECRET,
      HMAC_SECRET_PREVIOUS: "customer-ref-old-secret-0123456789abcdefgh",
      HMAC_SECRET_RETIRED: "customer-ref-retired-secret-0123456789abcdef",
    };
    const mark = "SET <key> revoked PX 86460000";
    const both = cli("102277100", env, ["--consent", "client-a"]);
    expect(both.status).toBe(0);
    expect(both.stdout.split("\n").map((l) => l.replace(/^consent +\S+/, "consent"))).toEqual([
      "consent",
      "consent  (previous secret 1)",
      "",
    ]);
    const unread = "1 (retired secret) key not printed: read by no server, a mark there blocks nothing\n";
    expect(both.stderr).toBe(`2 keys the server reads: revoke by marking every one: ${mark}; ${unread}`);
    // The retired secret's key is none of those printed.
    const underRetired = cli("102277100", { HMAC_SECRET: env.HMAC_SECRET_RETIRED }, ["--consent", "client-a"]);
    expect(both.stdout).not.toContain(underRetired.stdout.trim().split(/\s+/)[1]);
    const retiredOnly = cli("102277100", { ...env, HMAC_SECRET_PREVIOUS: undefined }, ["--consent", "client-a"]);
    expect(retiredOnly.stdout.split("\n")).toHaveLength(2);
    expect(retiredOnly.stderr).toBe(`1 key the server reads: revoke by marking it: ${mark}; ${unread}`);
  });

  it("--consent with HMAC_SECRET set to a retired secret (the old one, over the servers'): refused, no key printed", () => {
    const retired = "customer-ref-retired-secret-0123456789abcdef";
    const run = cli("102277100", { HMAC_SECRET: retired, HMAC_SECRET_RETIRED: `${SECRET},${retired}` }, [
      "--consent",
      "client-a",
    ]);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/HMAC_SECRET is one of HMAC_SECRET_RETIRED's secrets/);
    for (const secret of [SECRET, retired]) expect(run.stderr).not.toContain(secret);
    // The references' search across a rotation still runs under the old secret (its lines are under it).
    expect(cli("102277100", { HMAC_SECRET: retired, HMAC_SECRET_RETIRED: retired }).status).toBe(0);
  });

  it("--consent with HMAC_SECRET a retired secret is refused before the CIBIL id is read: stdin open, none typed", async () => {
    const retired = "customer-ref-retired-secret-0123456789abcdef";
    const child = spawn(process.execPath, [join(ROOT, "scripts/customer-ref.js"), "--consent", "client-a"], {
      env: { PATH: process.env.PATH, HMAC_SECRET: retired, HMAC_SECRET_RETIRED: retired },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    // stdin stays open and empty: a tool that asked for the CIBIL id first (the customer's identifier typed for
    // nothing) would still be waiting for it when the timer fires.
    const status = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        child.kill();
        resolve(-1);
      }, 10_000);
      child.on("exit", (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
    child.stdin.destroy();
    expect(status).toBe(2);
    expect(stderr).toMatch(/^customer-ref: --consent: HMAC_SECRET is one of HMAC_SECRET_RETIRED's secrets/);
    expect(stderr).not.toContain(retired);
  });

  it("a 10-digit number gives each kind it is valid as: mobile, CIBIL id and user key, each its own reference", () => {
    const { refs } = cli("9876543210");
    expect(Object.keys(refs)).toEqual(["mobile", "cibil", "aeps-user"]);
    expect(new Set(Object.values(refs).map((r) => r.slice(2))).size).toBe(3);
  });
});
