import FindMyWay from "find-my-way";
import { originForm, routedPath, routedSearch } from "../../../src/http/routed-path";

/**
 * routedPath reads a target as Fastify's router does: compared with find-my-way itself (Fastify's defaults) over
 * every spelling below of the paths our listeners serve, and of targets around them: each character percent-encoded
 * (either case), the escapes double-encoded, absolute forms, a query or fragment, malformed escapes.
 */
describe("routedPath reads a target as the router does", () => {
  const PATHS = ["/healthz", "/metrics", "/graphql", "/graphiql", "/graphiql/index.html"];
  const BAD = Symbol("bad URL");
  const router = FindMyWay({ onBadUrl: () => undefined });
  for (const path of PATHS) router.on("GET", path, () => undefined, { path });
  /** The path the router finds for `target`, null when none, BAD for its 400. */
  const routed = (target: string): string | null | typeof BAD => {
    const found = router.find("GET", target);
    if (found === null) return null;
    const store = found.store as { path?: string } | null;
    return store?.path ?? BAD;
  };
  const ours = (target: string): string | null | typeof BAD => {
    const path = routedPath(target);
    if (path === null) return BAD;
    return PATHS.includes(path) ? path : null;
  };

  const hex = (c: string) => c.charCodeAt(0).toString(16).padStart(2, "0");
  const spellings = (path: string): string[] => {
    const out = [path, `${path}/`, `/${path}`, path.toUpperCase(), `${path}%2F`, `${path}%2f`, `${path}%25`];
    for (let i = 1; i < path.length; i++) {
      const [before, c, after] = [path.slice(0, i), path[i], path.slice(i + 1)];
      out.push(
        `${before}%${hex(c)}${after}`,
        `${before}%${hex(c).toUpperCase()}${after}`,
        `${before}%25${hex(c)}${after}`,
        `${before}%${hex(c)[0]}${after}`,
        `${before}%zz${after}`,
      );
    }
    return out;
  };
  const around = (target: string): string[] => [
    target,
    `${target}?a=%zz&b=/healthz`,
    `${target}#frag`,
    `${target}?x#y`,
    `http://host${target}`,
    `HTTPS://host:8080${target}?q`,
    `http://host${target}#f`,
    `http://${target}`,
    `ftp://host${target}`,
    `http://host?${target}`,
  ];
  const targets = [
    ...PATHS.flatMap(spellings).flatMap(around),
    "*",
    "/",
    "",
    "?",
    "#",
    "http://",
    "http://host",
    "http://host?x",
    "http:///healthz",
    "/%",
    "/%%",
    "/%E0%A4%A",
    "/%C0%AF",
    "/\u00e9",
  ];

  it(`agrees with find-my-way on ${targets.length} targets`, () => {
    const disagreements = targets
      .map((target) => ({ target, router: routed(target), ours: ours(target) }))
      .filter((r) => r.router !== r.ours);
    expect(disagreements).toEqual([]);
    // The spellings reach every outcome: each path, none, and the router's 400.
    const outcomes = new Set(targets.map(routed));
    expect(outcomes).toEqual(new Set([...PATHS, null, BAD]));
  });

  // The query string as the router hands it to Fastify's parser (kept raw here), for every target it routes.
  const raw = FindMyWay({ onBadUrl: () => undefined, querystringParser: (query) => ({ query }) });
  for (const path of PATHS) raw.on("GET", path, () => undefined, { path });
  const hashes = ["/graphql#?query=x", "/graphql#x?query=x", "/graphql?a#b?c", "/graphql?#", "/graphql#", "#?x", "/?x"];

  it("routedSearch is the query string the router parses: from the first `?` or `#` (Apollo took the first `?`)", () => {
    const disagreements = [...targets, ...hashes]
      .map((target) => ({ target, found: raw.find("GET", target) }))
      .filter(({ found }) => found !== null && (found.store as { path?: string } | null)?.path !== undefined)
      .map(({ target, found }) => ({
        target,
        router: `?${(found!.searchParams as { query: string }).query}`,
        ours: routedSearch(target),
      }))
      // The router's empty query string: no parameters either way.
      .filter((r) => r.router !== r.ours && !(r.router === "?" && r.ours === ""));
    expect(disagreements).toEqual([]);
    expect(routedSearch("/graphql#?query=x")).toBe("??query=x");
    expect(new URLSearchParams(routedSearch("/graphql#?query=x")).get("query")).toBe(null);
  });

  it("originForm routes where the target does, with the same query string (Fastify's rewriteUrl)", () => {
    const differ = [...targets, ...hashes]
      .map((target) => ({ target, before: raw.find("GET", target), after: raw.find("GET", originForm(target)) }))
      .filter(
        ({ before, after }) =>
          JSON.stringify([before?.store, before?.searchParams]) !== JSON.stringify([after?.store, after?.searchParams]),
      )
      .map(({ target }) => target);
    expect(differ).toEqual([]);
    expect(originForm("HTTP://h:1/graphiql/index.html?v")).toBe("/graphiql/index.html?v");
    expect(originForm("http://h")).toBe("/");
    expect(originForm("http://h#/x")).toBe("http://h#/x");
    expect(originForm("*")).toBe("*");
  });

  it("decodes as the router does: `%2F` and `%25` kept, an absolute form's path", () => {
    expect(routedPath("/%6detrics?x")).toBe("/metrics");
    expect(routedPath("/a%2Fb%25c%41")).toBe("/a%2Fb%25cA");
    expect(routedPath("HTTP://h:1/%68ealthz#x")).toBe(null);
    expect(routedPath("http://h:1?q")).toBe("/");
    expect(routedPath("/%zz")).toBe(null);
  });
});
