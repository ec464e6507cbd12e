import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { withoutKey } from "../../../src/util/transient-map";
import { twoByte } from "../../../src/util/two-byte-text";

/**
 * What a request's work leaves in V8's old generation, where only a mark-compact frees it: a long-lived Map whose
 * entries come and go with each request (util/transient-map.ts says why: V8 makes a Map's next table in the
 * generation of the one it replaces, and the replaced tables keep their entries alive), and a number written with
 * String() (V8's number-string cache: access-log.ts pinoNumber). Measured in a child process (--expose-gc) on the
 * compiled server (dist-test/, built by test/global-setup.js) with V8's sampling heap profiler, keeping the samples a
 * major GC collects and dropping those a minor GC collects: after a minor GC at the end, what remains is what reached
 * the old generation during the loop (allocated there, or promoted), garbage or not; a mark-compact inside the loop
 * does not hide it. Bytes, no time.
 */
const DIST = join(__dirname, "../../../dist-test");

/** Bytes per step that reached the old generation in 2 * N steps of `loop` (`sends(from)`), after 2 * N to warm up. */
function oldGenerationPerSend(loop: string): number {
  const script = `
const inspector = require("node:inspector");
const { KeyHasher } = require("./protection/key-hasher.js");
const { deriveStoreKey, StoreSealer } = require("./protection/store-sealer.js");
const { MemoryRegisteredMobileStore } = require("./protection/memory-registered-mobiles.js");
const { createLogger } = require("./logging/logger.js");
const { logAccess } = require("./logging/access-log.js");
const { Admission } = require("./http/admission.js");
const { ConnectionGuard } = require("./http/connection-guard.js");
const { EventEmitter } = require("node:events");
const { twoByte } = require("./util/two-byte-text.js");
const session = new inspector.Session();
session.connect();
const post = (m, p) => new Promise((ok, ko) => session.post(m, p, (e, v) => (e ? ko(e) : ok(v))));
const secret = Buffer.alloc(32, 7);
const store = new MemoryRegisteredMobileStore(new KeyHasher(secret), new StoreSealer([deriveStoreKey(secret)]));
const N = 4000;
// The CIBIL ids made before the window (a number's string in the window would stay in V8's number-string cache).
const ids = Array.from({ length: 4 * N }, (_, i) => String(100000000000 + i));
const sends = (from) => { ${loop} };
(async () => {
  sends(0); // warm-up: the code optimised
  global.gc(); global.gc(); // the store and its maps in the old generation, as in a server that has run a while
  await post("HeapProfiler.enable");
  await post("HeapProfiler.startSampling", {
    samplingInterval: 128, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: false,
  });
  sends(2 * N);
  global.gc({ type: "minor", execution: "sync" });
  const { profile } = await post("HeapProfiler.stopSampling");
  let bytes = 0;
  const walk = (node) => { bytes += node.selfSize; node.children.forEach(walk); };
  walk(profile.head);
  console.log(JSON.stringify({ perSend: bytes / (2 * N) }));
})();`;
  const out = execFileSync(process.execPath, ["--expose-gc", "--no-allocation-site-pretenuring", "-e", script], {
    cwd: DIST,
    encoding: "utf8",
    timeout: 120_000,
  });
  return (JSON.parse(out.trim().split("\n").at(-1) as string) as { perSend: number }).perSend;
}

describe("old generation per request of the sends under way (CIBIL)", () => {
  it("the in-memory registered-mobile store's sends under way (two at a time) leave under 40 B each", () => {
    // 157 B per send when the emptied maps were deleted from (their tables made in the old generation, and the
    // entries and keys the replaced tables held promoted); 0-20 B with a new Map each time they empty.
    const perSend = oldGenerationPerSend(`
      for (let i = from; i < from + 2 * N; i += 2) {
        store.sending(ids[i]); store.sending(ids[i + 1]); void store.sent(ids[i]); void store.sent(ids[i + 1]);
      }`);
    process.stdout.write(`registered-mobile store: ${Math.round(perSend)} B of old generation per send\n`);
    expect(perSend).toBeLessThan(40);
  });

  it("measures something: a long-lived Map deleted from leaves more than 40 B per entry", () => {
    // The same churn on a Map, deleted from: the check above would pass on a measurement that measures nothing.
    const perSend = oldGenerationPerSend(`
      globalThis.m ??= new Map();
      for (let i = from; i < from + 2 * N; i += 2) {
        m.set(ids[i], { n: i }); m.set(ids[i + 1], { n: i }); m.delete(ids[i]); m.delete(ids[i + 1]);
      }`);
    expect(perSend).toBeGreaterThan(40);
  });
});

describe("old generation per request of admission's places per client", () => {
  it("two clients' places taken and given back, one at a time, leave under 40 B a request", () => {
    // 150-160 B a request when the emptied map of places per client was deleted from; 0-20 B with a new Map.
    const perRequest = oldGenerationPerSend(`
      globalThis.admission ??= new Admission({
        maxInFlight: 100, maxInFlightPerClient: 50, maxEventLoopDelayMs: 0, sampleIntervalMs: 500,
        retryAfterSeconds: 1, refusedReadsPerTurn: 0,
      }, () => {});
      for (let i = from; i < from + 2 * N; i++) {
        const res = new EventEmitter();
        if (admission.take(res, i % 2 ? "a" : "b") !== null) throw new Error("refused");
        admission.answered(res);
      }
    `);
    process.stdout.write(`admission: ${Math.round(perRequest)} B of old generation per request\n`);
    expect(perRequest).toBeLessThan(40);
  });
});

describe("old generation per connection of the connection guard", () => {
  it("connections opened, authenticated and closed, one at a time from 8 IPs, leave under 40 B each", () => {
    // 270 B a connection when the emptied set of counted connections and map of counts per IP were deleted from; 0-10
    // B with a new table each time they empty. The sockets are emitters with an address: the guard reads no more.
    const perConnection = oldGenerationPerSend(`
      if (globalThis.server === undefined) {
        const log = createLogger({ level: "info", destination: { write() {} } });
        const limits = { maxUnauthenticatedConnectionsPerIp: 64, maxUnauthenticatedConnections: 1000 };
        globalThis.guard = new ConnectionGuard(limits, null, log, "api");
        globalThis.server = new EventEmitter();
        guard.attach(server);
      }
      for (let i = from; i < from + 2 * N; i++) {
        const socket = new EventEmitter();
        socket.remoteAddress = "10.0.0." + (i % 8);
        socket.destroy = () => { throw new Error("refused"); };
        server.emit("connection", socket);
        guard.authenticated(socket);
        socket.emit("close");
      }
      if (guard.unauthenticated !== 0) throw new Error("still counted: " + guard.unauthenticated);
    `);
    process.stdout.write(`connection guard: ${Math.round(perConnection)} B of old generation per connection\n`);
    expect(perConnection).toBeLessThan(40);
  });

  it("measures something: a long-lived Set deleted from leaves more than 40 B per member", () => {
    const perMember = oldGenerationPerSend(`
      globalThis.s ??= new Set();
      for (let i = from; i < from + 2 * N; i++) {
        const member = { n: i };
        s.add(member); s.delete(member);
      }`);
    expect(perMember).toBeGreaterThan(40);
  });
});

describe("old generation per access line", () => {
  it("a line whose time is a new number each time leaves under 10 B", () => {
    // 32-40 B per line when the time's digits came from a template literal (V8's number-string cache, old, keeps each
    // new number's string until another takes its place, and the scavenger promotes it); 0-2 B with JSON.stringify.
    // The clock steps 1 ms a line, as at 1,000 requests/s; the line goes to a destination that drops it.
    const perLine = oldGenerationPerSend(`
      globalThis.log ??= createLogger({ level: "info", destination: { write() {} } }).child({ requestId: "r1" });
      globalThis.clock ??= 1765000000000;
      Date.now = () => clock++;
      for (let i = from; i < from + 2 * N; i++) logAccess(log, null, "POST", "/graphql", 200, null, null, 1);
    `);
    process.stdout.write(`access line: ${Math.round(perLine)} B of old generation per line\n`);
    expect(perLine).toBeLessThan(10);
  });
});

describe("old generation per request body parsed", () => {
  // An AEPS body's short values, new each request (the bench's: a user key, a primary key id, a transaction id).
  const body =
    `"{\\"variables\\":{\\"input\\":{\\"userKey\\":\\"BK" + ids[i].slice(-5) + "\\",\\"mobile\\":\\"9876543210\\",` +
    `\\"primaryKeyId\\":\\"PK" + ids[i].slice(-6) + "\\",\\"encodeTxnId\\":\\"TX" + ids[i].slice(-6) + "\\"}}}"`;

  it("a body parsed from its two-byte copy leaves under 10 B (its short values not interned)", () => {
    // 74.5 B per body parsed as it is (V8 interns a one-byte text's string values under 10 characters, in the old
    // generation); 1.3 B from the two-byte copy (bench figures: docs/performance-runs.md, round fa99ddb).
    const perBody = oldGenerationPerSend(`
      for (let i = from; i < from + 2 * N; i++) if (JSON.parse(twoByte(${body})).variables === undefined) throw 0;`);
    process.stdout.write(`request body, two-byte: ${Math.round(perBody)} B of old generation per body\n`);
    expect(perBody).toBeLessThan(10);
  });

  it("measures something: the same bodies parsed as they are leave more than 40 B each", () => {
    const perBody = oldGenerationPerSend(`
      for (let i = from; i < from + 2 * N; i++) if (JSON.parse(${body}).variables === undefined) throw 0;`);
    expect(perBody).toBeGreaterThan(40);
  });
});

describe("twoByte", () => {
  const texts = [
    "",
    "1",
    '"BK1"',
    '{"a":"BK1a2","b":"PK1234","c":1}',
    '{"variables":{"input":{"userKey":"BK1","name":"Ã©é","hindi":"अजय","emoji":"😀","esc":"\\u0041\\n"}}}',
    "[1, 2.5, -3e2, true, null]",
    "  {  }  ",
  ];

  it.each(texts)("is the same text, and parses to the same value: %j", (text) => {
    const wide = twoByte(text);
    expect(wide).toBe(text);
    expect(wide.length).toBe(text.length);
    if (text.trim() !== "") expect(JSON.parse(wide)).toEqual(JSON.parse(text));
  });

  it("refuses what JSON.parse refuses, as it is", () => {
    for (const bad of ["{", '{"a":}', "\u0100", '{"a":"\\x"}'])
      expect(() => JSON.parse(twoByte(bad))).toThrow(SyntaxError);
  });
});

describe("withoutKey", () => {
  it("deletes a key from a map that holds others, and returns that same map", () => {
    const map = new Map([
      ["a", 1],
      ["b", 2],
    ]);
    expect(withoutKey(map, "a")).toBe(map);
    expect([...map]).toEqual([["b", 2]]);
  });

  it("returns a new empty map for the last key, the old one untouched", () => {
    const map = new Map([["a", 1]]);
    const next = withoutKey(map, "a");
    expect(next).not.toBe(map);
    expect(next.size).toBe(0);
  });

  it("gives a set the same treatment: a new empty set for its last member, the same set otherwise", () => {
    const set = new Set(["a", "b"]);
    expect(withoutKey(set, "a")).toBe(set);
    expect([...set]).toEqual(["b"]);
    const next = withoutKey(set, "b");
    expect(next).not.toBe(set);
    expect(next).toBeInstanceOf(Set);
    expect(next.size).toBe(0);
    expect([...set]).toEqual(["b"]);
  });

  it("leaves a map without the key as it is, even with one entry", () => {
    const map = new Map([["a", 1]]);
    expect(withoutKey(map, "z")).toBe(map);
    expect([...map]).toEqual([["a", 1]]);
  });
});
