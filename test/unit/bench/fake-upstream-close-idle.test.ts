// Phase D asks the bench's fake upstream to close every idle kept-alive socket after the warm-up at 64 connections
// (bench/lib/phases.js, bench/fake-upstream.js "close-idle"): each system then meets its first closed pool socket in
// the paired warm-up. Before, those sockets were closed by their clients about 63 s after the burst (the upstream
// announces `Keep-Alive: timeout=65`), inside the window at 600 req/s each, and ours' hot path was recompiled there.
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { within } from "../../helpers/raw-http";

/* eslint-disable @typescript-eslint/no-require-imports */
const { startUpstream } = require("../../../bench/lib/one-system") as {
  startUpstream: (outDir: string) => Promise<{ url: string; child: ChildProcess }>;
};
const { ask, killAll } = require("../../../bench/lib/proc") as {
  ask: (child: ChildProcess, cmd: string) => Promise<unknown>;
  /** Stops every child the bench's startChild started and its reaper (the guard process it spawns with the first). */
  killAll: () => void;
};
/* eslint-enable @typescript-eslint/no-require-imports */

const dir = mkdtempSync(path.join(tmpdir(), "close-idle-"));
let up: Awaited<ReturnType<typeof startUpstream>>;
beforeAll(async () => {
  up = await startUpstream(dir);
});
afterAll(() => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

/** A kept-alive socket that has had one answer; `closed` settles when the upstream ends it. */
async function idleSocket(): Promise<{ socket: Socket; closed: Promise<void>; head: string }> {
  const { hostname, port } = new URL(up.url);
  const socket = connect(Number(port), hostname);
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  const head = await new Promise<string>((resolve, reject) => {
    let text = "";
    socket.on("data", (chunk: Buffer) => {
      text += chunk.toString("latin1");
      if (text.includes("\r\n\r\n")) resolve(text.slice(0, text.indexOf("\r\n\r\n")));
    });
    socket.once("error", reject);
    socket.write(`GET /not-an-aopay-path HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`);
  });
  return { socket, closed, head };
}

// Its timer cleared once `p` settles (within): a bare race left it holding the process.
const settledWithin = async (p: Promise<void>, ms: number) =>
  (await within(
    p.then(() => true),
    ms,
  )) ?? false;

describe("bench fake upstream: close-idle", () => {
  it("keeps an answered socket open (Keep-Alive: timeout=65) until asked, then closes it", async () => {
    const { socket, closed, head } = await idleSocket();
    try {
      expect(head).toMatch(/keep-alive: timeout=65/i);
      expect(await settledWithin(closed, 300)).toBe(false);
      await ask(up.child, "close-idle");
      expect(await settledWithin(closed, 2000)).toBe(true);
    } finally {
      socket.destroy();
    }
  });
});
