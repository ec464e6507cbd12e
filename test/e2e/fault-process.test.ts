import { join } from "node:path";
import { startServerProcess as run } from "../helpers/server-process";

/**
 * src/early-faults.ts FATAL_EXIT_CODE, written out: importing that module installs its handlers, here in jest's own
 * worker.
 */
const FATAL_EXIT_CODE = 70;
/** A valid Aadhaar number (Verhoeff), a mobile and the server's HMAC secret: none may be written in clear. */
const AADHAAR = "999971658847";
const MOBILE = "9876543210";
const SECRET = "fault-canary-hmac-secret-0123456789-abcdefgh";
const PRELOAD = join(__dirname, "../fixtures/preload/fault-on-sigusr2.cjs");

function server(how: "throw" | "reject" | "startup" | "hostile") {
  return run({
    NODE_ENV: "development",
    HMAC_SECRET: SECRET,
    NODE_OPTIONS: `--require ${PRELOAD}`,
    FAULT_CANARIES: [AADHAAR, MOBILE, SECRET, how].join(","),
  });
}

/** The process's stdout as JSON lines (every line must parse), and what it wrote, both streams. */
function linesOf(p: ReturnType<typeof run>): Array<Record<string, unknown>> {
  return p
    .stdout()
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function expectNoCanary(output: string): void {
  expect(output).not.toContain(AADHAAR);
  expect(output).not.toContain(MOBILE);
  expect(output).not.toContain(SECRET);
  expect(output).not.toContain(AADHAAR.slice(0, 8));
}

/**
 * What every fault must leave: exit FATAL_EXIT_CODE, nothing on stderr, no canary in either stream, and one fatal
 * line on stdout (returned, with every line). `signal`: the fault is set off once the server is ready (SIGUSR2, the
 * preload's trigger); without it, the server fails while starting.
 */
async function fatalLine(
  p: ReturnType<typeof run>,
  signal: boolean,
): Promise<{ fatal: Record<string, unknown>; lines: Array<Record<string, unknown>> }> {
  if (signal) {
    await p.ready;
    p.child.kill("SIGUSR2");
  }
  expect(await p.exited).toBe(FATAL_EXIT_CODE);
  expectNoCanary(p.output());
  expect(p.stderr()).toBe("");
  const lines = linesOf(p);
  const fatal = lines.filter((line) => line.level === "fatal");
  expect(fatal).toHaveLength(1);
  return { fatal: fatal[0], lines };
}

/**
 * The real entry point (dist-test/index.js) failing on its own: Node's defaults printed the error's message and stack
 * and a warning's text raw to stderr (test/fixtures/preload/fault-on-sigusr2.cjs quotes the canaries in both). Each is
 * one JSON line on stdout through the scrubbed logger, and the exit code is FATAL_EXIT_CODE (src/early-faults.ts).
 */
describe("a server process that fails on its own (src/early-faults.ts)", () => {
  it.each([
    ["an uncaught exception", "throw", "uncaughtException", "uncaught exception: the process ends"],
    ["an unhandled rejection", "reject", "unhandledRejection", "unhandled promise rejection: the process ends"],
  ] as const)(
    "%s: one fatal JSON line, masked, exit 70; a warning: one warn line",
    async (_what, how, origin, msg) => {
      const p = server(how);
      try {
        const { fatal, lines } = await fatalLine(p, true);
        expect(fatal).toMatchObject({ msg, origin, exitCode: FATAL_EXIT_CODE });
        const err = fatal.err as { message: string; stack: string };
        expect(err.message).toBe(
          "request for Aadhaar XXXX XXXX 8847, mobile XXXXXX3210, signed with [REDACTED], failed",
        );
        expect(err.stack).toContain("fault-on-sigusr2.cjs");
        const warning = lines.find((line) => line.msg === "Node.js warning");
        expect(warning).toMatchObject({
          level: "warn",
          warning: { code: "TEST_CANARY", message: "listener leak for customer XXXXXX3210 (XXXX XXXX 8847)" },
        });
      } finally {
        await p.kill();
      }
    },
    30_000,
  );

  it("before its logger exists (while starting): the same line, the environment's secrets hidden too", async () => {
    const p = server("startup");
    try {
      const { fatal } = await fatalLine(p, false);
      expect((fatal.err as { message: string }).message).toBe(
        "request for Aadhaar XXXX XXXX 8847, mobile XXXXXX3210, signed with [REDACTED], failed",
      );
    } finally {
      await p.kill();
    }
  }, 30_000);

  it("a thrown value the logger cannot read (its message getter throws): still one fatal line, exit 70", async () => {
    const p = server("hostile");
    try {
      const { fatal } = await fatalLine(p, true);
      expect(fatal).toMatchObject({
        msg: "uncaught exception: the process ends",
        origin: "uncaughtException",
        exitCode: FATAL_EXIT_CODE,
        thrown: { type: "object", unreadable: true },
      });
    } finally {
      await p.kill();
    }
  }, 30_000);
});
