import { spawn, spawnSync } from "node:child_process";
import { closeSync, constants, mkdtempSync, openSync, readFileSync, readSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FdWriter } from "../../../src/logging/logger";

/**
 * FdWriter (src/logging/logger.ts) on every kind of stdout a server meets, each in a child process whose real fd 1 is
 * that kind (test/fixtures/fd-writer/child.js, on the compiled build in dist-test/): nothing may hold the process on a
 * stdout nobody reads, the backlog stays bounded, a closed reader makes logging a no-op, and every line that is not
 * dropped arrives whole and in order.
 */
const CHILD = join(__dirname, "../../fixtures/fd-writer/child.js");

interface Report {
  kind: string;
  via: string;
  dropped: number;
  dead: boolean;
  writes: number;
  writesBeforeSettle: number;
  timersWaiting: number;
  timersSettled: number;
  wroteMs: number;
  settleMs: number;
}

function reportOf(stderr: string): Report {
  const line = stderr.split("\n").find((l) => l.startsWith("{"));
  if (!line) throw new Error(`no report in:\n${stderr}`);
  return JSON.parse(line) as Report;
}

/** The numbers of the lines in `text`, checking that each is whole. */
function lineNumbers(text: string, bytes: number): number[] {
  const lines = text.split("\n").slice(0, -1);
  for (const line of lines) expect(line.length).toBe(bytes - 1);
  return lines.map((l) => Number(/^line (\d+) /.exec(l)?.[1]));
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "fd-writer-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the child with stdout on `fd` (a file or device) and returns its report. */
function runOnFd(fd: number, env: Record<string, string>): Report {
  const r = spawnSync(process.execPath, [CHILD], { env: { ...process.env, ...env }, stdio: ["ignore", fd, "pipe"] });
  expect(r.status).toBe(0);
  return reportOf(r.stderr.toString());
}

/** Runs the child with stdout on a pipe (Node's "pipe": a socket pair) that is read; resolves once it has closed. */
async function runOnPipe(env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [CHILD], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => (err += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  return { code, out, err };
}

/** Runs the child with stdout on a pipe whose reader is gone before the child writes anything (EPIPE); its exit. */
async function runWithoutReader(env: Record<string, string>): Promise<{ code: number | null; err: string }> {
  const child = spawn(process.execPath, [CHILD], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.destroy();
  let err = "";
  child.stderr.on("data", (c: Buffer) => (err += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  return { code, err };
}

/**
 * For the cases about how a file is written, not about stalls: a stall limit no write reaches. At the default 50 ms
 * (FILE_STALL_MS) a 1 MB write on a loaded machine (a CI run with other Jest workers on the two cores) counted as a
 * stall and moved the file to the threadpool; the switch has its case of its own below.
 */
const NO_STALL = { STALL_MS: "60000" };

describe("FdWriter: log lines to stdout", () => {
  it("a regular file: written on the thread (write(2)), every line in order, nothing left to settle", () => {
    const path = join(dir, "file.log");
    const fd = openSync(path, "w");
    const report = runOnFd(fd, { ...NO_STALL, LINES: "5000", LINE_BYTES: "200" });
    closeSync(fd);
    // The 5,000 lines of one event-loop turn: one write at its end.
    expect(report).toMatchObject({ kind: "file", via: "write", dropped: 0, dead: false, writes: 1 });
    expect(lineNumbers(readFileSync(path, "utf8"), 200)).toEqual(Array.from({ length: 5000 }, (_, i) => i));
  });

  it.each([
    ["file", 4],
    ["file", 250],
    ["pipe", 4],
    ["pipe", 250],
  ])(
    "a %s: lines logged over %i event-loop turns within the window go out as one write, whole and in order",
    async (kind, turns) => {
      // 200 lines of 120 bytes (24 KB, under LOG_BATCH_MAX_CHARS), a window of 10 s: the settle writes them, as one.
      const vars = { LINES: "200", LINE_BYTES: "120", TURNS: String(turns), BATCH_MS: "10000" };
      const expected = { kind, dropped: 0, writes: 1, writesBeforeSettle: 0, timersWaiting: 1, timersSettled: 0 };
      if (kind === "file") {
        const path = join(dir, `turns-${turns}.log`);
        const fd = openSync(path, "w");
        const report = runOnFd(fd, { ...vars, ...NO_STALL });
        closeSync(fd);
        expect(report).toMatchObject({ ...expected, via: "write" });
        expect(report.settleMs).toBeLessThan(1000);
        expect(lineNumbers(readFileSync(path, "utf8"), 120)).toEqual(Array.from({ length: 200 }, (_, i) => i));
        return;
      }
      const { code, out, err } = await runOnPipe(vars);
      expect(code).toBe(0);
      expect(reportOf(err)).toMatchObject({ ...expected, via: "stream" });
      expect(reportOf(err).settleMs).toBeLessThan(1000);
      expect(lineNumbers(out, 120)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    },
  );

  it.each([["file"], ["pipe"]])(
    "a %s: the window's end writes what waits without a settle, and then no timer is left",
    async (kind) => {
      // 1 line, then 30 over 3 turns: each batch written once its 50 ms window ends (the pause is 1 s).
      for (const lines of ["1", "30"]) {
        const vars = { LINES: lines, TURNS: lines === "1" ? "1" : "3", BATCH_MS: "50", PAUSE_MS: "1000" };
        const expected = { writes: 1, writesBeforeSettle: 1, timersWaiting: 1, timersSettled: 0, dropped: 0 };
        if (kind === "file") {
          const path = join(dir, `window-${lines}.log`);
          const fd = openSync(path, "w");
          expect(runOnFd(fd, { ...vars, ...NO_STALL })).toMatchObject({ ...expected, via: "write" });
          closeSync(fd);
          expect(lineNumbers(readFileSync(path, "utf8"), 100)).toEqual(Array.from({ length: +lines }, (_, i) => i));
          continue;
        }
        const { code, out, err } = await runOnPipe(vars);
        expect(code).toBe(0);
        expect(reportOf(err)).toMatchObject({ ...expected, via: "stream" });
        expect(lineNumbers(out, 100)).toEqual(Array.from({ length: +lines }, (_, i) => i));
      }
    },
  );

  it.each([
    ["file", "throw", 1],
    ["file", "exit", 3],
    ["pipe", "throw", 1],
    ["pipe", "exit", 3],
    ["pipe", "return", 0],
  ])(
    "a %s: lines waiting for their window when the process ends (%s) are written before it does",
    async (kind, end, status) => {
      // A window no test waits for: only the exit hook (or, ending on its own, the ref'd window) can write them.
      const vars = { LINES: "50", TURNS: "2", BATCH_MS: end === "return" ? "200" : "60000", END: end };
      if (kind === "file") {
        const path = join(dir, `end-${end}.log`);
        const fd = openSync(path, "w");
        const r = spawnSync(process.execPath, [CHILD], {
          env: { ...process.env, ...vars, ...NO_STALL },
          stdio: ["ignore", fd, "pipe"],
        });
        closeSync(fd);
        expect(r.status).toBe(status);
        expect(lineNumbers(readFileSync(path, "utf8"), 100)).toEqual(Array.from({ length: 50 }, (_, i) => i));
        return;
      }
      const started = Date.now();
      const { code, out } = await runOnPipe(vars);
      expect(code).toBe(status);
      expect(lineNumbers(out, 100)).toEqual(Array.from({ length: 50 }, (_, i) => i));
      expect(Date.now() - started).toBeLessThan(10_000);
    },
  );

  it("a batch past LOG_BATCH_MAX_CHARS is written at the end of its turn, not at the window's end", async () => {
    const path = join(dir, "bound.log");
    const fd = openSync(path, "w");
    try {
      const writer = new FdWriter(fd, { kind: "file", batchMs: 60_000, stallMs: 60_000 });
      const line = "b".repeat(99) + "\n";
      // 700 lines: 70,000 characters, past the 65,536 bound at the 656th.
      for (let i = 0; i < 700; i++) writer.write(line);
      expect(writer.writes).toBe(0);
      await new Promise((resolve) => setImmediate(resolve));
      expect(writer.writes).toBe(1);
      expect(readFileSync(path, "utf8")).toBe(line.repeat(700));
      // The next lines wait for their window again, until the settle.
      writer.write("after\n");
      await new Promise((resolve) => setImmediate(resolve));
      expect(writer.writes).toBe(1);
      await writer.settle(1000);
      expect(writer.writes).toBe(2);
      expect(readFileSync(path, "utf8")).toBe(line.repeat(700) + "after\n");
    } finally {
      closeSync(fd);
    }
  });

  it("a line logged while a settle waits goes out at the end of its turn, not at the window's end", async () => {
    // A FIFO in this process: the first batch cannot all go in, so the settle waits; a line logged meanwhile must not
    // wait its 60 s window (the settle would time out without it, and an exit right after would lose it).
    const fifo = join(dir, "late.fifo");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const fd = openSync(fifo, constants.O_WRONLY);
    try {
      const writer = new FdWriter(fd, { kind: "pipe", batchMs: 60_000 });
      const first = "a".repeat(96 * 1024 - 1) + "\n";
      writer.write(first);
      const started = Date.now();
      const settled = writer.settle(5000);
      writer.write("late\n");
      await new Promise((resolve) => setImmediate(resolve));
      expect(writer.writes).toBe(2);
      let out = "";
      const reading = setInterval(() => (out += drain(reader)), 5);
      await settled;
      clearInterval(reading);
      out += drain(reader);
      expect(out).toBe(first + "late\n");
      expect(Date.now() - started).toBeLessThan(4000);
    } finally {
      closeSync(reader);
    }
  });

  it("a file whose write held the thread longer than the stall limit: the rest goes through the threadpool, in order", () => {
    const path = join(dir, "stall.log");
    const fd = openSync(path, "w");
    // A limit below zero: the first write counts as a stall.
    // Over 10 turns: the first turn's write (ours, counted) stalls; the other nine turns' lines go to the threadpool.
    const report = runOnFd(fd, { LINES: "3000", LINE_BYTES: "200", STALL_MS: "-1", TURNS: "10" });
    closeSync(fd);
    expect(report).toMatchObject({ kind: "file", via: "threadpool", dropped: 0, dead: false, writes: 1 });
    expect(lineNumbers(readFileSync(path, "utf8"), 200)).toEqual(Array.from({ length: 3000 }, (_, i) => i));
  });

  it("/dev/null: a file as far as writing goes", () => {
    const fd = openSync("/dev/null", "w");
    const report = runOnFd(fd, { ...NO_STALL, LINES: "1000" });
    closeSync(fd);
    expect(report).toMatchObject({ kind: "file", via: "write", dropped: 0, dead: false });
  });

  it("a file write that fails (ENOSPC: /dev/full written as a file) drops the line and counts it, never throws", () => {
    const fd = openSync("/dev/full", "w");
    const report = runOnFd(fd, { LINES: "7", KIND: "file" });
    closeSync(fd);
    expect(report).toMatchObject({ via: "write", dropped: 7, dead: false });
  });

  it("another device (/dev/full as fdKind sees it): the threadpool, and its write error makes logging a no-op", () => {
    const fd = openSync("/dev/full", "w");
    const report = runOnFd(fd, { LINES: "7" });
    closeSync(fd);
    expect(report).toMatchObject({ kind: "other", via: "threadpool", dead: true });
  });

  it.each([["settle"], ["flush"]])(
    "a pipe that is read: through the libuv stream, every line in order (%s)",
    async (how) => {
      // flush() waits FLUSH_MAX_WAIT_MS (300 ms) at most, settle() the child's 2 s: 6 MB did not always pass a
      // socket pair within 300 ms on a machine at load 12 (a helper's full run), so the flush case writes 600 kB.
      const lines = how === "flush" ? 2_000 : 20_000;
      const { code, out, err } = await runOnPipe({
        LINES: String(lines),
        LINE_BYTES: "300",
        ...(how === "flush" ? { FLUSH: "1" } : {}),
      });
      expect(code).toBe(0);
      expect(reportOf(err)).toMatchObject({ kind: "pipe", via: "stream", dropped: 0, dead: false });
      expect(lineNumbers(out, 300)).toEqual(Array.from({ length: lines }, (_, i) => i));
    },
  );

  it("a pipe nobody reads: the writes never wait, the backlog is bounded (the rest dropped and counted), the settle gives up on time", async () => {
    const lines = 40_000;
    const bytes = 250;
    const child = spawn(process.execPath, [CHILD], {
      env: {
        ...process.env,
        LINES: String(lines),
        LINE_BYTES: String(bytes),
        MAX_BACKLOG: String(1024 * 1024),
        SETTLE_MS: "300",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    // Nobody reads: the socket's buffer (about 200 KiB) fills and stays full until the child has exited.
    child.stdout.pause();
    let err = "";
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    const code = await new Promise((resolve) => child.on("exit", resolve));
    expect(code).toBe(0);
    const report = reportOf(err);
    expect(report).toMatchObject({ kind: "pipe", via: "stream", dead: false });
    // 10 MB written into a socket pair (Node's stdio 'pipe') of ~200 KiB and a 1 MiB backlog: most of it dropped.
    const kept = lines - report.dropped;
    expect(kept * bytes).toBeLessThanOrEqual(512 * 1024 + 1024 * 1024 + bytes);
    expect(report.dropped).toBeGreaterThan(lines / 2);
    expect(report.settleMs).toBeGreaterThanOrEqual(290);
    expect(report.settleMs).toBeLessThan(2000);
    // What was kept and reached the pipe is whole lines, in order, from the first.
    child.stdout.resume();
    await new Promise((resolve) => child.stdout.on("end", resolve));
    const numbers = lineNumbers(out.slice(0, out.lastIndexOf("\n") + 1), bytes);
    expect(numbers.slice(0, 10)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (let i = 1; i < numbers.length; i++) expect(numbers[i]).toBeGreaterThan(numbers[i - 1]);
  });

  it("a pipe whose reader has gone (EPIPE): logging becomes a no-op, the process neither crashes nor waits", async () => {
    // The reader goes away before the child writes anything.
    const { code, err } = await runWithoutReader({ LINES: "5000", WAIT_MS: "300" });
    expect(code).toBe(0);
    expect(reportOf(err)).toMatchObject({ kind: "pipe", via: "stream", dead: true });
    expect(reportOf(err).settleMs).toBeLessThan(100);
  });

  it("a pipe whose reader has gone when a window's batch is written (EPIPE): logging becomes a no-op", async () => {
    const { code, err } = await runWithoutReader({
      LINES: "10",
      TURNS: "2",
      BATCH_MS: "50",
      PAUSE_MS: "300",
      WAIT_MS: "300",
    });
    expect(code).toBe(0);
    // The window's end wrote them (before the settle), into a pipe with no reader.
    expect(reportOf(err)).toMatchObject({ kind: "pipe", via: "stream", dead: true, writesBeforeSettle: 1 });
    expect(reportOf(err).settleMs).toBeLessThan(100);
  });

  it.each([
    ["nobody reads (64 KiB, full)", "sleep 5", { dead: false }],
    ["whose reader has exited (EPIPE)", "true", { dead: true }],
  ])("a real pipe (FIFO, from sh) %s: the child reports and exits at once", (_name, reader, expected) => {
    const started = Date.now();
    // The reader's exit status is the pipeline's; the child's report is on stderr. The child waits 300 ms so `true` has
    // exited before it writes.
    const r = spawnSync("sh", ["-c", `"${process.execPath}" "${CHILD}" | ${reader}`], {
      env: {
        ...process.env,
        LINES: "40000",
        LINE_BYTES: "250",
        MAX_BACKLOG: String(1024 * 1024),
        SETTLE_MS: "300",
        WAIT_MS: "300",
      },
      stdio: ["ignore", "ignore", "pipe"],
      timeout: 20_000,
    });
    const report = reportOf(r.stderr.toString());
    expect(report).toMatchObject({ kind: "pipe", via: "stream", ...expected });
    if (!expected.dead) expect(report.dropped).toBeGreaterThan(30_000);
    expect(report.wroteMs).toBeLessThan(2000);
    // The child did not wait for `sleep 5` (the shell does, so the whole run is about 5 s).
    expect(report.settleMs).toBeLessThan(1000);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  const script = spawnSync("script", ["--version"]);
  (script.status === 0 ? it : it.skip)("a terminal (through script(1)): the threadpool, every line", () => {
    const r = spawnSync("script", ["-qec", `"${process.execPath}" "${CHILD}"`, "/dev/null"], {
      env: { ...process.env, LINES: "200", LINE_BYTES: "60" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    expect(r.status).toBe(0);
    // The report (stderr) goes to the same terminal; a terminal turns \n into \r\n.
    const text = r.stdout.toString().replace(/\r\n/g, "\n");
    expect(reportOf(text)).toMatchObject({ kind: "other", via: "threadpool", dropped: 0, dead: false });
    const lines = text.split("\n").filter((l) => l.startsWith("line "));
    expect(lines.map((l) => Number(l.split(" ")[1]))).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  /** Everything the FIFO's non-blocking reader end holds now. */
  function drain(fd: number): string {
    const chunk = Buffer.alloc(1 << 16);
    let text = "";
    for (;;) {
      try {
        const n = readSync(fd, chunk);
        if (n === 0) return text;
        text += chunk.toString("utf8", 0, n);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "EAGAIN") return text;
        throw error;
      }
    }
  }

  it.each([["settle"], ["flush"]])(
    "a pipe whose earlier write completes before this turn's lines are written: %s waits for them too",
    async (how) => {
      // In this process, so the test decides when the pipe drains: a FIFO (Linux's default capacity 64 KiB) with a
      // non-blocking reader end. The CI run that found this (fd-writer's 250-turn pipe case, 249 writes) was the same
      // order by chance: a write still in flight completed in the poll phase, between the last turn's lines and the
      // end of that turn (the check phase), and the child reported and exited without them.
      const fifo = join(dir, `${how}.fifo`);
      expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
      const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
      const fd = openSync(fifo, constants.O_WRONLY);
      try {
        const writer = new FdWriter(fd, { kind: "pipe" });
        const first = "a".repeat(96 * 1024 - 1) + "\n";
        writer.write(first);
        // The end of that turn: 64 KiB went into the pipe, the rest waits for room (the write is in flight).
        await new Promise((resolve) => setImmediate(resolve));
        expect(writer.writes).toBe(1);
        writer.write("last\n");
        const settled =
          how === "settle"
            ? writer.settle(2000).then(() => writer.writes)
            : new Promise<number>((resolve) => writer.flush(() => resolve(writer.writes)));
        // Room now: the write in flight completes in the next poll phase, before this turn's lines are written.
        let out = drain(reader);
        expect(await settled).toBe(2);
        out += drain(reader);
        expect(out).toBe(first + "last\n");
      } finally {
        closeSync(reader);
      }
    },
  );
});
