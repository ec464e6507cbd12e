import { execFile } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { type Browser, type BrowserContext, type Page, type Request } from "playwright-core";
import { assertChromiumInstalled, launchChromium } from "../helpers/chromium";
import { request } from "undici";
import { nextCibilId, nextMobile, nextPan } from "../helpers/identifiers";
import { CIBIL_CREDIT_HISTORY } from "../helpers/operations";
import {
  startProductionStack,
  startTestStack,
  TEST_API_KEY,
  TEST_API_KEYS_ENTRY,
  type TestStack,
} from "../helpers/stack";
import { Started } from "../helpers/started";

const run = promisify(execFile);
const ROOT = join(__dirname, "../..");
const ARTIFACTS = join(ROOT, "test-artifacts");
/** The little of the DOM that the functions run in the page use (this project's tsconfig has no DOM lib). */
declare const document: { querySelector(selector: string): unknown };
declare const localStorage: { setItem(key: string, value: string): void };
declare const location: { href: string };
declare function getComputedStyle(element: unknown): { opacity: string };
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

const GENERATE = `mutation SendOtp {
  generateCibilOtp(input: { cibilId: "102277100", accessToken: "123456542124" }) {
    __typename
    ... on CibilOtpChallenge { status question { text } }
    ... on Failure { code message }
  }
}`;

const REGISTER = `mutation Register($input: RegisterCibilCustomerInput!) {
  registerCibilCustomer(input: $input) {
    __typename
    ... on CibilCustomerRegistered { accessToken maskedMobile }
    ... on Failure { code message }
  }
}`;

/**
 * The self-hosted explorer (explorer/, GraphiQL 5 built with Vite, served at /graphiql by src/http/explorer.ts) in
 * Debian's chromium with the network cut: every request to a host other than loopback is aborted and recorded, as
 * on a machine with no access to any CDN. The development landing page (Apollo Sandbox) cannot load then, and must
 * offer the explorer; the explorer must load with no request off this server's origin, run generateCibilOtp against
 * the simulator, and show the schema's descriptions in its docs panel. In production /graphiql is not there.
 */

/**
 * Each request's URL and Referer as the browser sent them (`allHeaders`: the Referer is not in `headers()`), for the
 * checks that no Referer carries a link's variables. A request the page still starts while it closes (a late font, a
 * worker) has its headers read after the close, which rejects ("Target page, context or browser has been closed"):
 * not awaited by its test, that rejection failed the whole file once in CI under load. Such a request is not counted;
 * the requests a test checks are awaited (`pending`) before its page closes, and any other failure still throws.
 */
function referers() {
  const sent: { url: string; referer: string }[] = [];
  const pending: Promise<void>[] = [];
  const onRequest = (r: Request) =>
    pending.push(
      r.allHeaders().then(
        (h) => void sent.push({ url: r.url(), referer: h.referer ?? "" }),
        (error: unknown) => {
          if (!/has been closed/.test(String(error))) throw error;
        },
      ),
    );
  return { sent, pending, onRequest };
}
describe("the self-hosted explorer (GraphiQL) with every non-loopback request blocked", () => {
  let t: TestStack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  /** Requests to non-loopback hosts, aborted, with the page URL that was open when they were attempted. */
  const blocked: { url: string; from: string }[] = [];
  const pageErrors: string[] = [];
  const consoleErrors: string[] = [];

  const started = new Started();

  beforeAll(async () => {
    assertChromiumInstalled();
    mkdirSync(ARTIFACTS, { recursive: true });
    // What npm start does first: builds explorer/dist when it is missing or older than its sources.
    await run(process.execPath, [join(ROOT, "scripts/build-if-stale.js"), "--only", "explorer"], {
      cwd: ROOT,
      timeout: 90_000,
      signal: started.signal,
    });
    t = await started.keep(startTestStack({ NODE_ENV: "development", API_KEYS: TEST_API_KEYS_ENTRY }), (stack) =>
      stack.stop(),
    );
    browser = await started.keep(launchChromium(), (b) => b.close());
    context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    // Every request of every page and worker in the context, service workers included.
    await context.route("**/*", async (route) => {
      const url = new URL(route.request().url());
      if (
        (url.protocol === "http:" || url.protocol === "https:" || url.protocol === "ws:" || url.protocol === "wss:") &&
        !LOOPBACK_HOSTS.has(url.hostname)
      ) {
        blocked.push({ url: url.href, from: route.request().frame()?.url() ?? "(worker)" });
        return route.abort("internetdisconnected");
      }
      return route.fallback();
    });
    page = await context.newPage();
    page.on("pageerror", (error) => pageErrors.push(error.message));
    page.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(message.text());
    });
  }, 120_000);

  afterAll(() => started.closeAll());

  it("the landing page (Apollo Sandbox, from Apollo's CDN) cannot load, and offers the self-hosted explorer", async () => {
    await page.goto(t.graphqlUrl, { waitUntil: "load" });
    const link = page.locator("#self-hosted-explorer");
    await link.waitFor({ state: "visible" });
    expect(await page.getByText("Apollo Sandbox cannot be loaded").count()).toBe(1);
    // The landing page did try Apollo's CDN, and that was refused: the situation the fallback is for.
    expect(blocked.some((b) => b.url.includes("apollographql.com"))).toBe(true);
    // Apollo fades the fallback in over its first 2 s; a person sees it once opaque.
    await page.waitForFunction(() => getComputedStyle(document.querySelector(".fallback")).opacity === "1", undefined, {
      timeout: 10_000,
    });
    await page.screenshot({ path: join(ARTIFACTS, "explorer-landing-offline.png") });
    // From here on, only the explorer's own page counts (the landing page's failed Sandbox script threw, as expected).
    blocked.length = 0;
    pageErrors.length = 0;
    consoleErrors.length = 0;
    // A real click: nothing may cover the link (Sandbox's empty full-window container did).
    await link.click({ timeout: 5_000 });
    await page.waitForURL(`${t.baseUrl}/graphiql/`);
  });

  it("loads GraphiQL with no request to any host but this server", async () => {
    // The editors are monaco, which starts its workers and loads the schema by introspection.
    await page.locator(".graphiql-container").waitFor();
    await page.locator(".graphiql-query-editor .monaco-editor").waitFor();
    await page.getByText("query ServiceInfo").first().waitFor();
    expect(blocked).toEqual([]);
  });

  it("runs generateCibilOtp against the simulator and shows the answer", async () => {
    t.simulator?.resetCalls();
    await page.goto(`${t.baseUrl}/graphiql/?query=${encodeURIComponent(GENERATE)}`);
    await page.locator(".graphiql-query-editor .monaco-editor").waitFor();
    await page.getByText("generateCibilOtp").first().waitFor();
    await page.getByRole("button", { name: /Execute query/i }).click();
    const response = page.locator(".graphiql-response");
    await response.getByText("CibilOtpChallenge").waitFor({ timeout: 15_000 });
    // monaco renders spaces as no-break spaces and wraps long lines: compare with whitespace folded.
    const text = (await response.innerText()).replace(/\s+/g, " ");
    expect(text).toContain('"__typename": "CibilOtpChallenge"');
    expect(text).toContain("The One Time Password is sent to *********.");
    expect(t.simulator?.calls("cibil.generateOtp")).toBe(1);
    await page.screenshot({ path: join(ARTIFACTS, "explorer-generate-otp.png") });
  });

  it("keeps no operation, variables or headers in localStorage, and removes what an earlier version kept", async () => {
    const input = {
      firstName: "Vasundhara",
      lastName: "Thirunavukkarasu",
      pan: nextPan(),
      dateOfBirth: "1987-11-23",
      email: "vasundhara.t@example.com",
      mobile: nextMobile(),
    };
    // As GraphiQL kept a run by default: its history with the headers, whatever shouldPersistHeaders said.
    const earlier = JSON.stringify({
      queries: [{ query: REGISTER, variables: JSON.stringify({ input }), headers: `{"x-api-key":"${TEST_API_KEY}"}` }],
    });
    await page.evaluate((value) => localStorage.setItem("graphiql:queries", value), earlier);
    const params = new URLSearchParams({
      query: REGISTER,
      variables: JSON.stringify({ input }),
      headers: JSON.stringify({ "x-api-key": TEST_API_KEY }),
    });
    await page.goto(`${t.baseUrl}/graphiql/?${params}`);
    await page.locator(".graphiql-query-editor .monaco-editor").waitFor();
    await page.getByText("registerCibilCustomer").first().waitFor();
    await page.getByRole("button", { name: /Execute query/i }).click();
    const response = page.locator(".graphiql-response");
    await response.getByText("CibilCustomerRegistered").waitFor({ timeout: 15_000 });
    const accessToken = /"accessToken": "([^"]+)"/.exec((await response.innerText()).replace(/\s+/g, " "))?.[1];
    expect(accessToken).toBeDefined();
    // The history and the tab were written by the run (GraphiQL writes its tabs on a 150 ms debounce).
    await page.waitForTimeout(500);
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }));
    // The customer's values, the API key, the access token answered, and the earlier test's CIBIL id and token.
    const values = [...Object.values(input), TEST_API_KEY, accessToken as string, "102277100", "123456542124"];
    expect(values.filter((value) => stored.includes(value))).toEqual([]);
    // The operation is still there to run again while the page is open.
    expect(await page.getByText("registerCibilCustomer").count()).toBeGreaterThan(0);
  });

  it("shows the schema's descriptions in the docs panel (Mutation > generateCibilOtp)", async () => {
    await page.getByRole("button", { name: /Show Documentation Explorer/i }).click();
    const docs = page.locator(".graphiql-doc-explorer");
    await docs.getByText("Mutation", { exact: true }).click();
    await docs.getByText("generateCibilOtp", { exact: true }).first().click();
    await docs.locator(".graphiql-doc-explorer-title").getByText("generateCibilOtp").waitFor();
    const text = await docs.innerText();
    expect(text).toContain("Sends a CIBIL consent OTP to the customer's registered mobile");
    expect(text).toContain("GenerateCibilOtpInput");
    await page.screenshot({ path: join(ARTIFACTS, "explorer-docs.png") });
  });

  // A link's `?variables=` and `?headers=` (a customer's numbers, an API key) stayed in the address bar and the
  // history, and went out as the Referer of every request the page made (its scripts, styles, workers, and each
  // GraphQL request): a proxy in front logs the Referer of each (nginx's `combined` format does). The page now reads
  // them, then takes them out of its URL, and its files say `Referrer-Policy: no-referrer`; a `#` link's part after
  // the `#` is read the same way, and never leaves the browser at all.
  it.each(["?", "#"])(
    "takes a link's %s query, variables and headers out of its URL and out of every Referer",
    async (mark) => {
      const cibilId = nextCibilId();
      const params = new URLSearchParams({
        query: CIBIL_CREDIT_HISTORY,
        variables: JSON.stringify({ cibilId }),
        headers: JSON.stringify({ "x-api-key": TEST_API_KEY }),
      });
      const { sent, pending, onRequest } = referers();
      context.on("request", onRequest);
      try {
        // From another page: from /graphiql/ itself, a `#` link would only move within the page, which is not reloaded.
        await page.goto("about:blank");
        await page.goto(`${t.baseUrl}/graphiql/${mark}${params}`);
        await page.locator(".graphiql-query-editor .monaco-editor").waitFor();
        await page.getByText("cibilCreditHistory").first().waitFor();
        await page.getByRole("button", { name: /Execute query/i }).click();
        // ConsentRequired: no OTP was verified for this customer; the request ran with the link's variables and key.
        await page.locator(".graphiql-response").getByText("ConsentRequired").waitFor({ timeout: 15_000 });
        await Promise.all(pending);
      } finally {
        context.off("request", onRequest);
      }
      const held = [cibilId, TEST_API_KEY, encodeURIComponent(TEST_API_KEY), "variables", "headers"];
      const where = { url: page.url(), location: await page.evaluate(() => location.href) };
      expect(held.filter((value) => JSON.stringify(where).includes(value))).toEqual([]);
      expect(where.url).toBe(`${t.baseUrl}/graphiql/`);
      expect(sent.some((s) => s.url.endsWith("/graphql"))).toBe(true);
      expect(sent.filter((s) => held.some((value) => s.referer.includes(value)))).toEqual([]);
    },
  );

  // Apollo's development landing page (a browser's GET of /graphql) gave Sandbox `window.location.href` as its
  // endpoint: a GET's `?query=…&variables=…` opened in a browser went, whole, into Apollo's iframe (a third party's
  // page), and each operation Sandbox then ran was sent to that URL, its variables in every request line.
  it("gives Apollo Sandbox the endpoint without the page's query string or fragment", async () => {
    const probe = await context.newPage();
    const blockedBefore = blocked.length;
    try {
      // Sandbox's script, from Apollo's CDN, replaced by one that keeps what the page constructs it with.
      await probe.route("https://embeddable-sandbox.cdn.apollographql.com/**", (route) =>
        route.fulfill({
          contentType: "text/javascript",
          body: "window.EmbeddedSandbox = function (options) { window.sandboxOptions = JSON.stringify(options); };",
        }),
      );
      const cibilId = nextCibilId();
      const params = new URLSearchParams({ query: CIBIL_CREDIT_HISTORY, variables: JSON.stringify({ cibilId }) });
      await probe.goto(`${t.graphqlUrl}?${params}#${cibilId}`);
      const options = await probe.waitForFunction(() => (globalThis as { sandboxOptions?: string }).sandboxOptions);
      const constructed = JSON.parse(String(await options.jsonValue())) as { initialEndpoint: string };
      expect(constructed.initialEndpoint).toBe(t.graphqlUrl);
    } finally {
      await probe.close();
      // The landing page's own requests to Apollo's CDN (fonts, icon), refused: not the explorer's (the test below).
      blocked.length = blockedBefore;
    }
  });

  // The landing page kept a GET's query string (`?query=…&variables=…`, a customer's numbers) in its URL, and sent no
  // Referrer-Policy: the browser's default sends a same-origin request the whole URL as its Referer, so following the
  // page's own link to the explorer (or anything else of this origin it opened) carried the variables into a proxy's
  // log, as the explorer's pages did before they said `no-referrer`.
  it("takes a GET's query string out of the landing page's URL and out of the Referer of the explorer it opens", async () => {
    const probe = await context.newPage();
    const blockedBefore = blocked.length;
    const { sent, pending, onRequest } = referers();
    probe.on("request", onRequest);
    try {
      const cibilId = nextCibilId();
      const params = new URLSearchParams({ query: CIBIL_CREDIT_HISTORY, variables: JSON.stringify({ cibilId }) });
      await probe.goto(`${t.graphqlUrl}?${params}`, { waitUntil: "load" });
      const link = probe.locator("#self-hosted-explorer");
      await link.waitFor({ state: "visible" });
      await probe.waitForFunction(
        () => getComputedStyle(document.querySelector(".fallback")).opacity === "1",
        undefined,
        {
          timeout: 10_000,
        },
      );
      const where = { url: probe.url(), location: await probe.evaluate(() => location.href) };
      await link.click({ timeout: 5_000 });
      await probe.waitForURL(`${t.baseUrl}/graphiql/`);
      await probe.locator(".graphiql-container").waitFor();
      await Promise.all(pending);
      expect(sent.some((s) => s.url === `${t.baseUrl}/graphiql/`)).toBe(true);
      expect(sent.filter((s) => s.referer.includes(cibilId) || s.referer.includes("variables"))).toEqual([]);
      expect(where).toEqual({ url: t.graphqlUrl, location: t.graphqlUrl });
    } finally {
      await probe.close();
      // The landing page's own requests to Apollo's CDN, refused: not the explorer's (the test below).
      blocked.length = blockedBefore;
    }
  });

  it("attempted no request off loopback from the explorer, and raised no page error", () => {
    expect(blocked).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });

  it("is not served in production: /graphiql is a 404 and the landing page is off", async () => {
    const prod = await startProductionStack();
    try {
      for (const path of ["/graphiql", "/graphiql/", "/graphiql/index.html"]) {
        const res = await request(`${prod.baseUrl}${path}`);
        const body = (await res.body.json()) as { errors: { extensions: { code: string } }[] };
        expect({ path, status: res.statusCode, code: body.errors[0].extensions.code }).toEqual({
          path,
          status: 404,
          code: "NOT_FOUND",
        });
      }
      const landing = await request(prod.graphqlUrl, { headers: { accept: "text/html" } });
      expect(await landing.body.text()).not.toContain("self-hosted-explorer");
    } finally {
      await prod.stop();
    }
  });
});
