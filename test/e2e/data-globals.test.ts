import { join } from "node:path";
import { startServerProcess } from "../helpers/server-process";

/**
 * The entry point (dist-test/index.js, what `npm start` runs) redefines the accessor globals that dependencies read per
 * request as data properties holding the same objects (src/util/data-globals.ts), before its other modules load, and
 * the server then serves as before. The preload sees the globals as Node defines them, then as the process leaves them.
 */

const PRELOAD = join(__dirname, "../fixtures/preload/global-descriptors.cjs");

interface Descriptors {
  before: Record<string, string>;
  after: Record<string, string>;
  same: Record<string, boolean>;
}

describe("the entry point's globals", () => {
  it("process, Buffer, performance: accessors in Node, data properties of the same objects in the server", async () => {
    const p = startServerProcess({ NODE_OPTIONS: `--require ${PRELOAD}` });
    let health: Response;
    try {
      const url = await p.ready;
      health = await fetch(`${url}/healthz`);
      p.child.kill("SIGTERM");
      expect(await p.exited).toBe(0);
    } finally {
      await p.kill();
    }
    expect(health.status).toBe(200);
    const m = /GLOBAL_DESCRIPTORS (\{.*\})/.exec(p.output());
    if (!m) throw new Error(`no GLOBAL_DESCRIPTORS line in:\n${p.output()}`);
    const seen = JSON.parse(m[1]) as Descriptors;
    // The premise: this Node defines them as accessors (were they data properties, there would be nothing to do).
    // `performance` is enumerable, as web globals are; it stays so.
    expect(seen.before).toEqual({ process: "accessor", Buffer: "accessor", performance: "accessor, enumerable" });
    expect(seen.after).toEqual({ process: "data", Buffer: "data", performance: "data, enumerable" });
    expect(seen.same).toEqual({ process: true, Buffer: true, performance: true });
  }, 20_000);
});
