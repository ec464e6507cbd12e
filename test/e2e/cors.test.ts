import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser } from "playwright-core";
import { launchChromium } from "../helpers/chromium";
import { request } from "undici";
import { REFUSED_ORIGIN_WARNINGS_PER_INTERVAL } from "../../src/http/cors";
import { startFakeUpstream, upstreamEnv } from "../helpers/fake-upstream";
import { holdingUpstream, until } from "../helpers/holding-upstream";
import { aepsInput, RESEND_AEPS_OTP } from "../helpers/operations";
import { Started } from "../helpers/started";
import { startStaticServer, type StaticServer } from "../helpers/static-server";
import {
  PRODUCTION_SECURITY,
  startProductionStack,
  startTestStack,
  TEST_API_KEY,
  type TestStack,
} from "../helpers/stack";

/** A CORS preflight for a POST from `origin`: the Access-Control-Allow-Origin it got (undefined: refused). */
async function preflight(t: TestStack, origin: string): Promise<string | undefined> {
  const res = await request(t.graphqlUrl, {
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
  });
  await res.body.dump();
  return res.headers["access-control-allow-origin"] as string | undefined;
}

/** The "refused origin" warnings logged so far: origin and the setting they name. */
function refusals(t: TestStack): { origin: unknown; allowWith: unknown }[] {
  return t.logs
    .records()
    .filter((r) => typeof r.msg === "string" && r.msg.startsWith("CORS: refused"))
    .map((r) => ({ origin: r.origin, allowWith: r.allowWith }));
}

/** In a real browser: a page served from `site` POSTs serviceInfo to the API. Returns its answer, or the error the page saw. */
async function fetchFromPage(browser: Browser, site: StaticServer, graphqlUrl: string): Promise<string> {
  const page = await browser.newPage();
  try {
    await page.goto(site.url);
    return await page.evaluate(async (url) => {
      try {
        const res = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ query: "{ serviceInfo { upstream } }" }),
        });
        return await res.text();
      } catch (error) {
        return String(error);
      }
    }, graphqlUrl);
  } finally {
    await page.close();
  }
}

/** What a page can read of an answer: its status, the exposed headers and the body; or the error the page saw. */
interface PageAnswer {
  status: number;
  retryAfter: string | null;
  requestId: string | null;
  body: { errors?: { extensions?: { code?: string; requestId?: string } }[] };
}

/**
 * In Chromium, a page served from `site` POSTs `body` to the API (or GETs `graphqlUrl` when `body` is null): what it
 * can read of the answer (see PageAnswer).
 */
async function readFromPage(
  browser: Browser,
  site: StaticServer,
  graphqlUrl: string,
  body: string | null,
): Promise<PageAnswer | string> {
  const page = await browser.newPage();
  try {
    await page.goto(site.url);
    return await page.evaluate(
      async ({ url, body }) => {
        try {
          const res =
            body === null
              ? await fetch(url)
              : await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });
          return {
            status: res.status,
            retryAfter: res.headers.get("retry-after"),
            requestId: res.headers.get("x-request-id"),
            body: (await res.json()) as PageAnswer["body"],
          };
        } catch (error) {
          return String(error);
        }
      },
      { url: graphqlUrl, body },
    );
  } finally {
    await page.close();
  }
}

/**
 * CORS as a consumer app's developer meets it: outside production any loopback origin may call the API (a Vite,
 * Next or CRA dev server on whatever port it picked); an origin that is refused, in any mode, is logged once with
 * the CORS_ORIGINS value that would allow it, since the browser shows the page only "Failed to fetch".
 */
describe("CORS", () => {
  let browser: Browser;
  let site: StaticServer;
  let siteDir: string;

  const started = new Started();

  beforeAll(async () => {
    siteDir = mkdtempSync(join(tmpdir(), "cors-site-"));
    writeFileSync(join(siteDir, "index.html"), "<!doctype html><title>consumer app</title><p>consumer app</p>");
    site = await started.keep(startStaticServer(siteDir), (s) => s.close());
    browser = await started.keep(launchChromium(), (b) => b.close());
  }, 90_000);
  afterAll(async () => {
    await started.closeAll();
    rmSync(siteDir, { recursive: true, force: true });
  });

  describe("in development", () => {
    let t: TestStack;
    beforeAll(async () => {
      t = await startTestStack({ NODE_ENV: "development" });
    });
    afterAll(async () => {
      await t?.stop();
    });

    it("allows any http://localhost:<port>, http://127.0.0.1:<port> and http://[::1]:<port> origin, with no setting", async () => {
      for (const origin of [
        "http://localhost:3000",
        "http://127.0.0.1:8080",
        "http://localhost:5173",
        "http://[::1]:4200",
      ]) {
        expect({ origin, allowed: await preflight(t, origin) }).toEqual({ origin, allowed: origin });
      }
      expect(refusals(t)).toEqual([]);
    });

    it("a page on another loopback port (a consumer app's dev server) gets its answer in Chromium", async () => {
      const answer = await fetchFromPage(browser, site, t.graphqlUrl);
      expect(JSON.parse(answer)).toEqual({ data: { serviceInfo: { upstream: "SIMULATOR" } } });
    });

    it("refuses other origins (https on localhost, a LAN address, another site) and logs each once, with the setting that allows it", async () => {
      for (const origin of ["https://localhost:5173", "http://192.168.1.20:5173", "https://evil.example"]) {
        for (let i = 0; i < 3; i++) expect(await preflight(t, origin)).toBeUndefined();
      }
      expect(refusals(t)).toEqual([
        {
          origin: "https://localhost:5173",
          allowWith: "CORS_ORIGINS=http://localhost:5173,http://127.0.0.1:5173,https://localhost:5173",
        },
        {
          origin: "http://192.168.1.20:5173",
          allowWith: "CORS_ORIGINS=http://localhost:5173,http://127.0.0.1:5173,http://192.168.1.20:5173",
        },
        {
          origin: "https://evil.example",
          allowWith: "CORS_ORIGINS=http://localhost:5173,http://127.0.0.1:5173,https://evil.example",
        },
      ]);
    });

    it("logs a refused origin with its long digit runs masked, glued or spaced (client text; found by an audit)", async () => {
      const before = refusals(t).length;
      for (const origin of [
        "https://uid234123412346.example",
        "https://98287 35123.example",
        "http://a.example\t9876543210",
      ])
        expect(await preflight(t, origin)).toBeUndefined();
      expect(
        refusals(t)
          .slice(before)
          .map((r) => r.origin),
      ).toEqual(["https://uidXXXXXXXXXXXX.example", "https://XXXXX XXXXX.example", "http://a.example\tXXXXXXXXXX"]);
      expect(t.logs.raw()).not.toMatch(/234123412346|98287 35123|9876543210/);
    });

    it(`logs at most ${REFUSED_ORIGIN_WARNINGS_PER_INTERVAL} refused origins per 10 s: a flood of 1,000 new ones, before any authentication, writes that many warnings`, async () => {
      t.logs.clear();
      for (let i = 0; i < 1_000; i += 50) {
        await Promise.all(Array.from({ length: 50 }, (_, j) => preflight(t, `https://flood${i + j}.example`)));
      }
      // Before, one warning of about 900 bytes per new origin: 1,000 lines. Fewer than the cap when the tests above
      // named origins within the same 10 s. (The remembered set's bound and the count of the ones not named:
      // test/unit/http/cors.test.ts, on a clock of its own.)
      expect(refusals(t).length).toBeGreaterThan(0);
      expect(refusals(t).length).toBeLessThanOrEqual(REFUSED_ORIGIN_WARNINGS_PER_INTERVAL);
    }, 60_000);
  });

  describe("in production", () => {
    it("refuses a loopback origin that is not listed: the page sees only 'Failed to fetch', the log says which setting allows it, once", async () => {
      const prod = await startProductionStack({ CORS_ORIGINS: "https://app.example" });
      try {
        expect(await preflight(prod, "https://app.example")).toBe("https://app.example");
        const seen = await fetchFromPage(browser, site, prod.graphqlUrl);
        expect(seen).toBe("TypeError: Failed to fetch");
        await fetchFromPage(browser, site, prod.graphqlUrl);
        expect(refusals(prod)).toEqual([
          { origin: site.url, allowWith: `CORS_ORIGINS=https://app.example,${site.url}` },
        ]);
        const line = prod.logs.records().find((r) => r.origin === site.url);
        expect(line).toMatchObject({
          level: "warn",
          msg: expect.stringContaining(`To allow it, set CORS_ORIGINS=https://app.example,${site.url}.`),
        });
      } finally {
        await prod.stop();
      }
    });

    it("does not log same-origin requests (a page served by this server) or requests without an Origin", async () => {
      const prod = await startProductionStack();
      try {
        await preflight(prod, prod.baseUrl);
        await request(prod.graphqlUrl, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "{}",
        }).then((r) => r.body.dump());
        expect(refusals(prod)).toEqual([]);
      } finally {
        await prod.stop();
      }
    });
  });

  describe("answers refused before GraphQL, on an allowed origin", () => {
    it("a page reads a 401 (no API key) as UNAUTHENTICATED with its request id, not as 'Failed to fetch'", async () => {
      const prod = await startProductionStack({ CORS_ORIGINS: site.url });
      try {
        const seen = await readFromPage(
          browser,
          site,
          prod.graphqlUrl,
          JSON.stringify({ query: "{ serviceInfo { upstream } }" }),
        );
        expect(seen).toEqual({
          status: 401,
          retryAfter: null,
          requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
          body: {
            errors: [expect.objectContaining({ extensions: expect.objectContaining({ code: "UNAUTHENTICATED" }) })],
          },
        });
        const answer = seen as PageAnswer;
        expect(answer.body.errors?.[0]?.extensions?.requestId).toBe(answer.requestId);
        expect(prod.received).toEqual([]);
      } finally {
        await prod.stop();
      }
    });

    it("a page reads a 431 for its too long URL, refused by Node's parser, as HEADERS_TOO_LARGE with its request id", async () => {
      const prod = await startProductionStack({ CORS_ORIGINS: site.url });
      try {
        // 20,000 characters of URL: over MAX_HEADER_BYTES (16 KiB), so no handler runs (node-limits.ts).
        const seen = await readFromPage(browser, site, `${prod.graphqlUrl}?query=${"a".repeat(20_000)}`, null);
        expect(seen).toEqual({
          status: 431,
          retryAfter: null,
          requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
          body: {
            errors: [expect.objectContaining({ extensions: expect.objectContaining({ code: "HEADERS_TOO_LARGE" }) })],
          },
        });
        expect((seen as PageAnswer).body.errors?.[0]?.extensions?.requestId).toBe((seen as PageAnswer).requestId);
        expect(prod.received).toEqual([]);
      } finally {
        await prod.stop();
      }
    });

    it("a page reads a 503 OVERLOADED refused at the door, and its Retry-After", async () => {
      const upstream = await startFakeUpstream();
      const t = await startTestStack({
        NODE_ENV: "production",
        ...upstreamEnv(upstream),
        ...PRODUCTION_SECURITY,
        CORS_ORIGINS: site.url,
        ADMISSION_MAX_IN_FLIGHT: "1",
        ADMISSION_RETRY_AFTER_SECONDS: "7",
      });
      const hold = holdingUpstream(upstream);
      try {
        // The one place taken by a server-side call held at the upstream; the page's request is the one too many.
        const admitted = t.gql(RESEND_AEPS_OTP, aepsInput("9876543210"), { "x-api-key": TEST_API_KEY });
        await until("the admitted send to reach the upstream", () => upstream.calls.length === 1);
        const seen = await readFromPage(
          browser,
          site,
          t.graphqlUrl,
          JSON.stringify({ query: RESEND_AEPS_OTP, variables: aepsInput("9876543211") }),
        );
        expect(seen).toEqual({
          status: 503,
          retryAfter: "7",
          requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
          body: { errors: [expect.objectContaining({ extensions: expect.objectContaining({ code: "OVERLOADED" }) })] },
        });
        hold.release();
        expect((await admitted).status).toBe(200);
        expect(upstream.calls).toHaveLength(1);
      } finally {
        hold.release();
        await t.stop();
        await upstream.close();
      }
    });
  });
});
