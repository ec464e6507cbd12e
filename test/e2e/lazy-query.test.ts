import { inspect } from "node:util";

import Fastify from "fastify";
import fastQuerystring from "fast-querystring";

import { lazyQuery } from "../../src/http/get-parameters";
import { startTestStack, type TestStack } from "../helpers/stack";

/**
 * Fastify's `request.query` parsed only when read (src/http/get-parameters.ts lazyQuery, the router's
 * querystringParser in http-server.ts): a GraphQL GET is answered as before without the router's parse, and whatever
 * reads the object finds what fast-querystring (the router's parser until then) wrote. The first test fails with the
 * router's own parser (1 of 8 failed before: the parse ran once per GET with a query string).
 */
describe("request.query parsed when read", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ NODE_ENV: "development" });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("a GraphQL GET is answered without the router parsing its query string", async () => {
    const parse = jest.spyOn(fastQuerystring, "parse");
    try {
      const query = encodeURIComponent("{ __typename }");
      const res = await fetch(`${stack.graphqlUrl}?query=${query}`, {
        headers: { "apollo-require-preflight": "1" },
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ data: { __typename: "Query" } });
      expect(parse).not.toHaveBeenCalled();
    } finally {
      parse.mockRestore();
    }
  });

  it.each(["a=1&b=2", "a=1&a=2&a=3", "a%41=%zz&b=%E0%A4&c=a+b", "__proto__=x&=y&constructor=z", "flag&x=", "a;b=1"])(
    "%s reads as fast-querystring parses it",
    (search) => {
      const expected = fastQuerystring.parse(search) as Record<string, unknown>;
      const lazy = lazyQuery(search);
      expect(Object.keys(lazy)).toEqual(Object.keys(expected));
      expect({ ...lazy }).toEqual({ ...expected });
      expect(JSON.stringify(lazy)).toBe(JSON.stringify(expected));
      for (const key of Object.keys(expected)) {
        expect(key in lazy).toBe(true);
        expect(lazy[key]).toEqual(expected[key]);
      }
      expect("missing" in lazy).toBe(false);
      expect(Object.getPrototypeOf(lazy)).toBe(Object.getPrototypeOf(expected));
    },
  );

  it("parses once, at the first read, and keeps what is written to it", () => {
    const parse = jest.spyOn(fastQuerystring, "parse");
    try {
      const lazy = lazyQuery("a=1");
      expect(parse).not.toHaveBeenCalled();
      expect(lazy.a).toBe("1");
      lazy.b = "2";
      delete lazy.a;
      expect({ ...lazy }).toEqual({ b: "2" });
      expect(parse).toHaveBeenCalledTimes(1);
      expect(lazyQuery("")).toEqual({});
    } finally {
      parse.mockRestore();
    }
  });

  /**
   * What a reader outside the get/keys traps finds: util.inspect reads the proxy's target, not its traps, and the
   * operations that fix an object's shape (freeze, seal, preventExtensions, a property defined non-configurable) hold
   * the traps to their target, which was an empty object: inspect showed `{}`, and a frozen query threw at that call
   * and at every read after it (failed before: 6 of 6). Each runs first, on a query nothing read yet.
   */
  const OPERATIONS: Record<string, (query: Record<string, unknown>) => unknown> = {
    inspect: (query) => inspect(query),
    freeze: (query) => [Object.isFrozen(Object.freeze(query)), Object.keys(query), JSON.stringify(query)],
    seal: (query) => [Object.isSealed(Object.seal(query)), { ...query }, Object.isFrozen(query)],
    preventExtensions: (query) => {
      Object.preventExtensions(query);
      return [Object.isExtensible(query), Reflect.set(query, "new", "1"), Object.keys(query), query.a];
    },
    "defineProperty, not configurable": (query) => {
      Object.defineProperty(query, "d", { value: "1", enumerable: true });
      // Deleting it throws a TypeError in both, worded by each (the proxy names its trap): the name is compared.
      let deleted: unknown;
      try {
        deleted = delete query.d;
      } catch (error) {
        deleted = (error as Error).name;
      }
      return [Object.getOwnPropertyDescriptor(query, "d"), Object.keys(query), deleted];
    },
    setPrototypeOf: (query) => {
      Object.setPrototypeOf(query, null);
      return [Object.getPrototypeOf(query), inspect(query)];
    },
  };

  it.each(Object.keys(OPERATIONS))("%s finds what it finds on the eager parse", (name) => {
    const run = OPERATIONS[name];
    for (const search of ["a=1&a=2&b=", "__proto__=x&constructor=y&toString=z", "a%41=%zz&c=a+b"]) {
      const outcome = (query: Record<string, unknown>) => {
        try {
          return { value: run(query) };
        } catch (error) {
          return { error: String(error) };
        }
      };
      expect([search, outcome(lazyQuery(search))]).toEqual([
        search,
        outcome(fastQuerystring.parse(search) as Record<string, unknown>),
      ]);
    }
  });

  it("a Fastify route reads, inspects and freezes request.query as with the router's own parse", async () => {
    const answers: string[] = [];
    for (const routerOptions of [{ querystringParser: lazyQuery }, {}]) {
      const app = Fastify({ routerOptions });
      app.get("/q", async (request) => {
        const seen = inspect(request.query);
        Object.freeze(request.query);
        return { seen, keys: Object.keys(request.query as object), query: request.query };
      });
      try {
        const res = await app.inject({ method: "GET", url: "/q?a=1&a=2&__proto__=x&%zz=y" });
        answers.push(`${res.statusCode} ${res.body}`);
      } finally {
        await app.close();
      }
    }
    expect(answers[0]).toBe(answers[1]);
    expect(answers[1]).toMatch(/^200 .*"keys":\["a","__proto__","%zz"\]/);
  });
});
