import { type AddressInfo, connect } from "node:net";
import Fastify, { type FastifyInstance } from "fastify";
import { request } from "undici";
import { requestProtocol } from "../../src/http/cors";
import { clientIpKey } from "../../src/http/client-ip";
import { clientAddress, compileTrustedProxies, type TrustProxy } from "../../src/util/trusted-proxies";
import { loadConfig } from "../../src/config";
import { startTestStack, type TestStack } from "../helpers/stack";

/**
 * TRUSTED_PROXIES is compiled once (src/util/trusted-proxies.ts) and the one function is asked by every reader:
 * Fastify's request.ip and request.protocol (its trustProxy), the thin route's client IP (clientAddress), the protocol
 * of a request Fastify never sees (cors.ts requestProtocol) and the connection guard. Before, three compilations and a
 * BlockList of the guard's own, which took an IPv4 peer for a member of `::/64`.
 */
const FORWARDED_FOR = "198.51.100.7, 127.0.0.9";
const FORWARDED_PROTO = "http, https";

/** peer -> [client IP, protocol] for each list; `trusted`: the peer is a proxy (the guard's question). */
type Expected = Record<string, { ip: string; protocol: string; trusted: boolean }>;
const direct = (peer: string) => ({ ip: peer, protocol: "http", trusted: false });
const viaOne = { ip: "127.0.0.9", protocol: "https", trusted: true };
const viaTwo = { ip: "198.51.100.7", protocol: "https", trusted: true };
const PEERS = ["127.0.0.1", "::ffff:127.0.0.1", "::1"];
const CASES: [string, Expected][] = [
  ["", { "127.0.0.1": direct("127.0.0.1"), "::ffff:127.0.0.1": direct("::ffff:127.0.0.1"), "::1": direct("::1") }],
  ["127.0.0.1", { "127.0.0.1": viaOne, "::ffff:127.0.0.1": viaOne, "::1": direct("::1") }],
  ["127.0.0.0/8", { "127.0.0.1": viaTwo, "::ffff:127.0.0.1": viaTwo, "::1": direct("::1") }],
  [
    "10.0.0.0/8",
    { "127.0.0.1": direct("127.0.0.1"), "::ffff:127.0.0.1": direct("::ffff:127.0.0.1"), "::1": direct("::1") },
  ],
  ["::1", { "127.0.0.1": direct("127.0.0.1"), "::ffff:127.0.0.1": direct("::ffff:127.0.0.1"), "::1": viaOne }],
  ["::ffff:127.0.0.0/104", { "127.0.0.1": viaTwo, "::ffff:127.0.0.1": viaTwo, "::1": direct("::1") }],
  // An IPv6 range that is not a mapped one never spans IPv4 (proxy-addr): ::1 is a proxy, 127.0.0.x are not.
  ["::/64", { "127.0.0.1": direct("127.0.0.1"), "::ffff:127.0.0.1": direct("::ffff:127.0.0.1"), "::1": viaOne }],
  ["10.0.0.0/8,::1/128,127.0.0.0/8", { "127.0.0.1": viaTwo, "::ffff:127.0.0.1": viaTwo, "::1": viaTwo }],
];

describe("TRUSTED_PROXIES: one compiled function, the same answer for every reader", () => {
  it.each(CASES)("TRUSTED_PROXIES=%j", async (list, expected) => {
    const entries = loadConfig({ NODE_ENV: "test", TRUSTED_PROXIES: list }).trustedProxies;
    const trust = compileTrustedProxies(entries);
    const start = () => {
      const app: FastifyInstance = Fastify({ trustProxy: trust ?? false });
      app.get("/", async (req) => ({
        peer: req.raw.socket.remoteAddress,
        fastifyIp: req.ip,
        fastifyProtocol: req.protocol,
        thinIp: clientAddress(req.raw, trust),
        corsProtocol: requestProtocol(req.headers["x-forwarded-proto"] as string, req.raw.socket, trust),
        guard: trust?.(req.raw.socket.remoteAddress as string, 0) ?? false,
      }));
      return app;
    };
    // 127.0.0.1 on an IPv4 listener; ::ffff:127.0.0.1 and ::1 on a dual-stack one.
    const seen: Record<string, unknown>[] = [];
    for (const [listen, connectTo] of [
      ["127.0.0.1", ["127.0.0.1"]],
      ["::", ["127.0.0.1", "[::1]"]],
    ] as const) {
      const app = start();
      try {
        await app.listen({ host: listen, port: 0 });
        const { port } = app.server.address() as AddressInfo;
        for (const host of connectTo) {
          const res = await request(`http://${host}:${port}/`, {
            headers: { "x-forwarded-for": FORWARDED_FOR, "x-forwarded-proto": FORWARDED_PROTO },
          });
          seen.push((await res.body.json()) as Record<string, unknown>);
        }
      } finally {
        await app.close();
      }
    }
    expect(seen.map((s) => s.peer)).toEqual(PEERS);
    for (const s of seen) {
      const want = expected[s.peer as string];
      expect(s).toEqual({
        peer: s.peer,
        fastifyIp: want.ip,
        thinIp: want.ip,
        fastifyProtocol: want.protocol,
        corsProtocol: want.protocol,
        guard: want.trusted,
      });
    }
  });

  it("a prefix length of 0 is refused by the settings check, naming the setting (before: exit 1 at start)", () => {
    for (const list of ["0.0.0.0/0", "10.0.0.0/8,::/0"])
      expect(() => loadConfig({ NODE_ENV: "test", TRUSTED_PROXIES: list })).toThrow(
        /TRUSTED_PROXIES.*a prefix length of 0 would trust every address/s,
      );
    expect(() => loadConfig({ NODE_ENV: "test", TRUSTED_PROXIES: "10.0.0.0/33" })).toThrow(
      /TRUSTED_PROXIES.*prefix length is at most 32/s,
    );
  });
});

describe("TRUSTED_PROXIES: a hop written with a port, or with an IPv6 zone index", () => {
  /** What Fastify and the thin route take for the client IP, and its budget key, behind `entries` for `xff`. */
  async function seenBehind(entries: string, xff: string) {
    const trust = compileTrustedProxies(loadConfig({ NODE_ENV: "test", TRUSTED_PROXIES: entries }).trustedProxies);
    const app: FastifyInstance = Fastify({ trustProxy: trust ?? false });
    app.get("/", async (req) => ({
      fastifyIp: req.ip,
      thinIp: clientAddress(req.raw, trust),
      key: clientIpKey(req.ip),
    }));
    try {
      await app.listen({ host: "127.0.0.1", port: 0 });
      const { port } = app.server.address() as AddressInfo;
      const res = await request(`http://127.0.0.1:${port}/`, { headers: { "x-forwarded-for": xff } });
      return (await res.body.json()) as { fastifyIp: string; thinIp: string; key: string };
    } finally {
      await app.close();
    }
  }

  // A trusted proxy that writes its own hop as `IP:port` (Azure Application Gateway's form): before, the walk stopped
  // at it and every client behind it was keyed as the proxy (127.0.0.9): one per-IP budget for them all.
  it.each([
    ["127.0.0.9:443", "127.0.0.0/8"],
    ["[::1]:443", "127.0.0.1,::1"],
    ["[fe80::1%eth0]:443", "127.0.0.1,fe80::1"],
  ])("a trusted hop written %s is passed over: each client behind it its own", async (hop, entries) => {
    const a = await seenBehind(entries, `198.51.100.7, ${hop}`);
    const b = await seenBehind(entries, `203.0.113.9, ${hop}`);
    expect(a).toEqual({ fastifyIp: "198.51.100.7", thinIp: "198.51.100.7", key: "198.51.100.7" });
    expect(b).toEqual({ fastifyIp: "203.0.113.9", thinIp: "203.0.113.9", key: "203.0.113.9" });
  });

  it("an untrusted hop with a port stays the client (its port left out of the key)", async () => {
    expect(await seenBehind("127.0.0.1", "198.51.100.7, 192.0.2.5:8080")).toEqual({
      fastifyIp: "192.0.2.5:8080",
      thinIp: "192.0.2.5:8080",
      key: "192.0.2.5",
    });
  });

  it("an IPv6 zone index in TRUSTED_PROXIES is refused, saying what to write; a peer's zone is compared without it", () => {
    for (const [list, write] of [
      ["fe80::1%eth0", "fe80::1"],
      ["10.0.0.0/8,fe80::%eth0/64", "fe80::/64"],
    ])
      expect(() => loadConfig({ NODE_ENV: "test", TRUSTED_PROXIES: list })).toThrow(
        new RegExp(`TRUSTED_PROXIES.*zone index is not taken.*write ${write.replace("/", "\\/")} `, "s"),
      );
    const trust = compileTrustedProxies(["fe80::1", "fe80:0:0:7::/64"]) as TrustProxy;
    expect(["fe80::1%eth0", "fe80::1", "fe80:0:0:7::5%2", "fe80::2%eth0"].map((a) => trust(a, 0))).toEqual([
      true,
      true,
      true,
      false,
    ]);
  });
});

describe("TRUSTED_PROXIES on the real server", () => {
  let t: TestStack | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  it("an IPv4 peer is no proxy of ::/64: held to its per-IP connection cap, as Fastify does", async () => {
    t = await startTestStack({ TRUSTED_PROXIES: "::/64", MAX_UNAUTHENTICATED_CONNECTIONS_PER_IP: "1" });
    const { port } = new URL(t.baseUrl);
    // "open": the server answered a request on the connection (GET /healthz authenticates nothing, so the connection
    // still counts toward the cap); "closed": it closed with no answer. No timer decides: a close behind an event loop
    // busy past a timer read as "open" before (the same race connection-guard.test.ts had).
    const open = () =>
      new Promise<"open" | "closed">((resolve) => {
        const socket = connect(Number(port), "127.0.0.1");
        socket.on("error", () => undefined);
        socket.once("data", () => resolve("open"));
        socket.once("close", () => resolve("closed"));
        socket.once("connect", () => socket.write("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"));
        sockets.push(socket);
      });
    const sockets: ReturnType<typeof connect>[] = [];
    try {
      expect([await open(), await open()]).toEqual(["open", "closed"]);
    } finally {
      for (const s of sockets) s.destroy();
    }
  });

  it.each([true, false])(
    "thin route %s: X-Forwarded-Proto from a trusted peer makes a same-origin request, as Fastify's routes read it",
    async (thinGraphQLRoute) => {
      t = await startTestStack({ TRUSTED_PROXIES: "127.0.0.0/8" }, { thinGraphQLRoute });
      const warned = (host: string) =>
        t!.logs.records().some((r) => String(r.msg).startsWith("CORS: refused") && JSON.stringify(r).includes(host));
      // POST /graphql (the thin route when on) and GET /healthz (Fastify's): https://<host> is the request's own origin
      // when the proxy says https; without the header it is http, and the https origin is a refused cross origin.
      for (const [path, method] of [
        ["/graphql", "POST"],
        ["/healthz", "GET"],
      ] as const) {
        for (const proto of ["https", undefined]) {
          const host = `${method.toLowerCase()}-${proto ?? "none"}-${thinGraphQLRoute}.example`;
          await request(`${t.baseUrl}${path}`, {
            method,
            headers: {
              host,
              origin: `https://${host}`,
              "content-type": "application/json",
              ...(proto ? { "x-forwarded-proto": proto } : {}),
            },
            body: method === "POST" ? JSON.stringify({ query: "{ __typename }" }) : undefined,
          }).then((r) => r.body.dump());
          expect([host, warned(host)]).toEqual([host, proto === undefined]);
        }
      }
    },
  );
});
