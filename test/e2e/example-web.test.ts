import { execFile } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { type Browser, type Page } from "playwright-core";
import { assertChromiumInstalled, launchChromium } from "../helpers/chromium";
import { Started } from "../helpers/started";
import { startStaticServer, type StaticServer } from "../helpers/static-server";
import { createSdk } from "../../client/src/sdk";
import { startStackOnFakeUpstream, startTestStack, type TestStack } from "../helpers/stack";
import { unserialisable } from "../helpers/unserialisable";

const run = promisify(execFile);
const ROOT = join(__dirname, "../..");
const ARTIFACTS = join(ROOT, "test-artifacts");
const APP_DIR = join(ARTIFACTS, "example-web");
/** The little of the DOM that the functions run in the page use (this project's tsconfig has no DOM lib). */
declare const document: { querySelector(selector: string): { textContent: string | null } | null };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const CIBIL_SEND = { testId: "cibil-send", label: "Send OTP" };
const AEPS_SEND = { testId: "aeps-send", label: "Resend OTP" };
/** The server's OTP cooldown in this test: the resend countdowns the app shows last this long. */
const COOLDOWN_SECONDS = 4;
/** The error hint's sentence on sending again (Outcome.tsx): true only while the form is unchanged. */
const SAME_FORM_AGAIN = "Sending again with the form unchanged is safe: it reuses the same Idempotency-Key";

/**
 * The example app (examples/web) in a real browser: Vite builds it against a real server + simulator on loopback,
 * a static server on another loopback port serves it (so every call is a real CORS request), and Debian's
 * chromium, driven by playwright-core, fills the forms and reads what the page shows. Screenshots go to
 * test-artifacts/.
 */
describe("example web app in Chromium", () => {
  let site: StaticServer;
  let t: TestStack;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  const consoleErrors: string[] = [];
  /** Idempotency-Key of every GraphQL mutation the page sent, by operation name. */
  const sentKeys: { operation: string; key: string | undefined }[] = [];
  /** The `input` variable of every GraphQL mutation the page sent, by operation name. */
  const sentInputs: { operation: string; input: Record<string, unknown> | undefined }[] = [];

  const started = new Started();

  // Each slow step has its own time limit under the hook's, so a failure names the step (cold, the set-up takes about
  // 15 s alone; under a loaded CI machine much longer).
  beforeAll(async () => {
    assertChromiumInstalled();
    mkdirSync(ARTIFACTS, { recursive: true });
    rmSync(APP_DIR, { recursive: true, force: true });
    site = await started.keep(startStaticServer(APP_DIR), (s) => s.close());
    // The server allows the app's origin, and keeps an OTP cooldown, short enough to wait out here (the real one is
    // 60 s; the rest of the budgets stay lenient). Trusted documents enforced: the app sends ids only
    // (createTrustedDocumentLink), as production should.
    t = await started.keep(
      startTestStack({
        CORS_ORIGINS: site.url,
        OTP_COOLDOWN_SECONDS: String(COOLDOWN_SECONDS),
        TRUSTED_DOCUMENTS: "enforce",
      }),
      (stack) => stack.stop(),
    );
    await run(
      process.execPath,
      [
        join(ROOT, "node_modules/vite/bin/vite.js"),
        "build",
        "examples/web",
        "--outDir",
        APP_DIR,
        "--emptyOutDir",
        "--logLevel",
        "warn",
      ],
      {
        cwd: ROOT,
        env: { ...process.env, VITE_GRAPHQL_URL: t.graphqlUrl },
        timeout: 90_000,
        signal: started.signal,
      },
    );
    browser = await started.keep(launchChromium(), (b) => b.close());
    page = await browser.newPage({ viewport: { width: 900, height: 1000 } });
    page.on("pageerror", (error) => pageErrors.push(error.message));
    page.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(message.text());
    });
    page.on("request", (request) => {
      if (request.method() !== "POST" || !request.url().startsWith(t.graphqlUrl)) return;
      const body = request.postDataJSON() as {
        operationName?: string;
        variables?: { input?: Record<string, unknown> };
      } | null;
      const operation = body?.operationName ?? "";
      if (operation === "ServiceInfo") return;
      sentKeys.push({ operation, key: request.headers()["idempotency-key"] });
      sentInputs.push({ operation, input: body?.variables?.input });
    });
    await page.goto(site.url);
    await page.getByText("AOPay simulator").waitFor();
  }, 240_000);

  afterAll(() => started.closeAll());

  /**
   * Clicks `button` (by its name, or by test id after checking its label: both send buttons can read "Resend OTP")
   * and waits until the outcome `testId` shows a new request (its request id changed).
   */
  async function submit(
    button: string | { testId: string; label: string },
    testId: string,
    click: "click" | "dblclick" = "click",
  ): Promise<string> {
    const requestId = page.getByTestId(testId).getByTestId("request-id");
    const before = (await requestId.count()) > 0 ? await requestId.textContent() : null;
    const target =
      typeof button === "string"
        ? page.getByRole("button", { name: button, exact: true })
        : page.getByTestId(button.testId);
    if (typeof button !== "string") expect(await target.innerText()).toBe(button.label);
    await target[click]();
    await page.waitForFunction(
      ([id, previous]) => {
        const shown = document.querySelector(`[data-testid="${id}"] [data-testid="request-id"]`);
        return shown !== null && shown.textContent !== previous;
      },
      [testId, before] as const,
      { timeout: 10_000 },
    );
    return page.getByTestId(testId).innerText();
  }

  /** Clicks CIBIL's send; the request reaches the server (and AOPay), but the browser never gets the answer. */
  async function submitAnswerLost(): Promise<string> {
    await page.route(t.graphqlUrl, async (route) => {
      if (route.request().method() !== "POST") return route.fallback();
      await route.fetch();
      await route.abort("connectionreset");
    });
    return submit(CIBIL_SEND, "cibil-outcome").finally(() => page.unrouteAll());
  }

  const shownKey = (testId: string) => page.getByTestId(testId).getByTestId("idempotency-key").innerText();
  /** CIBIL sent again after a lost answer: the stored result replayed under the key shown before; one SMS in all. */
  async function expectCibilReplayed(key: string): Promise<void> {
    const replayed = await submit(CIBIL_SEND, "cibil-outcome");
    expect(replayed).toContain("The One Time Password is sent to *********.");
    expect(replayed).toMatch(/Replayed\s+yes/);
    expect(await shownKey("cibil-outcome")).toBe(key);
    expect(t.simulator?.calls("cibil.generateOtp")).toBe(1);
  }

  /**
   * The send button while a resend countdown runs: disabled, saying the seconds left, until they are over; then enabled.
   * Returns the seconds it first said and how long it stayed disabled (from this call).
   */
  async function waitOutCountdown(button: string): Promise<{ said: number; disabledForMs: number }> {
    const send = page.getByTestId(button);
    const started = Date.now();
    expect(await send.isDisabled()).toBe(true);
    const said = Number((/^Resend in ([0-9]+) s$/.exec(await send.innerText()) ?? [])[1]);
    await page.waitForFunction(
      (id) => !(document.querySelector(`[data-testid="${id}"]`) as unknown as { disabled: boolean }).disabled,
      button,
      {
        timeout: (COOLDOWN_SECONDS + 3) * 1000,
        polling: 50,
      },
    );
    return { said, disabledForMs: Date.now() - started };
  }
  /** The header's line: the server's URL and who answers its calls to AOPay (serviceInfo.upstream, App.tsx). */
  const shownServer = (on: Page) => on.getByTestId("server").innerText();

  it("header: the built-in simulator is named as such", async () => {
    expect(await shownServer(page)).toBe(`${t.graphqlUrl} · AOPay simulator`);
  });

  it("header: a server whose AOPAY_BASE_URL names another host (here a scripted one) shows the LIVE label", async () => {
    // Credentials other than the simulator's (config.ts upstreamOf): a host this server cannot tell from AOPay.
    const live = await startStackOnFakeUpstream({
      env: { CORS_ORIGINS: site.url, AOPAY_REGISTRATION_ID: "REG-E2E-0001", AOPAY_COMPANY_CODE: "E2ECO01" },
    });
    const other = await browser.newPage();
    try {
      other.on("pageerror", (error) => pageErrors.push(error.message));
      // The app is built for t's URL (VITE_GRAPHQL_URL): its requests go to the live server, and its answers back.
      await other.route(
        (url) => url.href.startsWith(t.graphqlUrl),
        (route) => route.fallback({ url: route.request().url().replace(t.graphqlUrl, live.t.graphqlUrl) }),
      );
      await other.goto(site.url);
      // Until serviceInfo's answer, the header says "connecting…".
      await other.waitForFunction(
        () => !(document.querySelector('[data-testid="server"]')?.textContent ?? "connecting").includes("connecting"),
        undefined,
        { timeout: 10_000 },
      );
      expect(await shownServer(other)).toBe(`${t.graphqlUrl} · AOPay at AOPAY_BASE_URL, or a stand-in`);
      // serviceInfo reads the server's settings: the host itself is asked nothing.
      expect(live.upstream.calls).toEqual([]);
    } finally {
      await other.close();
      await live.stop();
    }
  });

  /**
   * Opens the app in a new page whose ServiceInfo answer is the server's real one, its upstream replaced by `value`
   * (a value a later schema might add, or a hostile one), and waits until the header shows it (App.tsx upstreamLabel).
   */
  async function pageWithUpstream(value: string): Promise<Page> {
    const other = await browser.newPage();
    other.on("pageerror", (error) => pageErrors.push(error.message));
    await other.route(
      (url) => url.href.startsWith(t.graphqlUrl),
      async (route) => {
        const body = route.request().postDataJSON() as { operationName?: string } | null;
        if (body?.operationName !== "ServiceInfo") return route.fallback();
        const response = await route.fetch();
        const text = (await response.text()).replace('"upstream":"SIMULATOR"', `"upstream":${JSON.stringify(value)}`);
        await route.fulfill({ response, body: text });
      },
    );
    await other.goto(site.url);
    await other.getByText(`upstream ${value}`).waitFor({ timeout: 10_000 });
    return other;
  }

  it("header: an upstream value this build does not know (a newer server's) is shown as sent, not 'connecting…'", async () => {
    const other = await pageWithUpstream("NEWER_MODE");
    try {
      expect(await shownServer(other)).toBe(`${t.graphqlUrl} · upstream NEWER_MODE`);
    } finally {
      await other.close();
    }
  });

  it("header: an unknown value that is markup (a hostile or confused server) is shown as text, never run", async () => {
    const markup = '<img src=x onerror="window.pwned=1"><b data-testid="injected">bold</b>';
    const other = await pageWithUpstream(markup);
    try {
      expect(await shownServer(other)).toBe(`${t.graphqlUrl} · upstream ${markup}`);
      // Text, not elements: no image asked for, no handler run, nothing of it in the DOM as markup.
      expect(await other.locator("img, [data-testid=injected]").count()).toBe(0);
      expect(await other.evaluate(() => (globalThis as { pwned?: number }).pwned)).toBeUndefined();
    } finally {
      await other.close();
    }
  });

  const shownRequestId = (testId: string) => page.getByTestId(testId).getByTestId("request-id").innerText();

  it("CIBIL: shows the challenge question with the masked number, resend eligibility and the request id", async () => {
    await page.getByLabel("CIBIL id").fill("102277100");
    const text = await submit(CIBIL_SEND, "cibil-outcome");
    expect(text).toContain("The One Time Password is sent to *********. Please enter the One Time Password.");
    // AOPay's form shows the mobile's first five digits (97100****): the page shows none of them.
    expect(text).not.toContain("97100");
    expect(await page.getByTestId("resend-eligibility").innerText()).toBe("eligible");
    expect(await shownRequestId("cibil-outcome")).toMatch(UUID);
    const key = await shownKey("cibil-outcome");
    expect(key).toMatch(UUID);
    expect(sentKeys.at(-1)).toEqual({ operation: "GenerateCibilOtp", key });
  });

  it("CIBIL: the resend button is disabled, counting down the server's resendAvailableInSeconds, until it ends; a resend is a new action", async () => {
    const firstKey = await shownKey("cibil-outcome");
    const sent = sentKeys.length;
    expect(await page.getByTestId("cibil-countdown").innerText()).toMatch(
      /^A new OTP can go to this customer in [0-9]+ s\.$/,
    );
    const { said, disabledForMs } = await waitOutCountdown("cibil-send");
    expect(said).toBeGreaterThanOrEqual(COOLDOWN_SECONDS - 1);
    expect(said).toBeLessThanOrEqual(COOLDOWN_SECONDS);
    // It stayed disabled for the seconds it said, less the one that may already have begun.
    expect(disabledForMs).toBeGreaterThanOrEqual((said - 1) * 1000);
    expect(sentKeys.length).toBe(sent);
    expect(await page.getByTestId("cibil-countdown").count()).toBe(0);

    const text = await submit({ testId: "cibil-send", label: "Resend OTP" }, "cibil-outcome");
    expect(text).toContain("The One Time Password is sent to *********.");
    expect(await shownKey("cibil-outcome")).not.toBe(firstKey);
    expect(await page.getByTestId("cibil-send").isDisabled()).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, "example-web-countdown.png"), fullPage: true });
  });

  it("CIBIL: a wrong OTP shows AOPay's message with the attempts left; the right one verifies and shows the credit history", async () => {
    // The CIBIL id edited after the send (to try a scenario next): the answer still goes with the token of the send
    // it answers, not with the one the form now gives the new id (the step read the form's live token).
    await page.getByLabel("CIBIL id").fill("102277504");
    await page.getByLabel("OTP", { exact: true }).fill("000000");
    const wrong = await submit("Submit OTP", "cibil-submit-outcome");
    expect(wrong).toContain("AOPay declined the request: Simulated: invalid OTP, 2 attempts left");
    await page.getByLabel("OTP", { exact: true }).fill("123456");
    const right = await submit("Submit OTP", "cibil-submit-outcome");
    expect(right).toContain("Customer verified (SUCCESS).");
    // The report as the server hands it over: the simulator's sample, labelled as such, for this customer.
    expect(await page.getByTestId("report-label").innerText()).toBe(
      "Sample report from the AOPay simulator: every field in it is the simulator's invention.",
    );
    const report = JSON.parse(await page.getByTestId("credit-report").innerText()) as Record<string, unknown>;
    expect(report).toMatchObject({
      simulated: true,
      cibil_id: "102277100",
      customer: { first_name: "Sandbox", mobile: "*********" },
    });
    expect(JSON.stringify(report)).not.toContain("97100");
    expect(await page.getByTestId("score-fetch-date").innerText()).toMatch(/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/);
    expect(sentInputs.filter((sent) => sent.operation === "SubmitCibilOtp").map((sent) => sent.input)).toEqual([
      expect.objectContaining({ cibilId: "102277100", accessToken: "sandbox-102277100", otp: "000000" }),
      expect.objectContaining({ cibilId: "102277100", accessToken: "sandbox-102277100", otp: "123456" }),
    ]);
    expect(await page.getByLabel("CIBIL id").inputValue()).toBe("102277504");
    await page.screenshot({ path: join(ARTIFACTS, "example-web-cibil-verified.png"), fullPage: true });
  });

  it("CIBIL: a send the server refuses (an OTP went to this customer from elsewhere) says the wait and holds the button until it ends", async () => {
    // Another device sends to the customer first, through the API (with the SDK: it sends a trusted document).
    const sentAt = Date.now();
    const other = await createSdk({ url: t.graphqlUrl }).generateCibilOtp({
      // The token the form gives this sandbox customer (CibilOtpForm.tsx sandboxToken): the same customer.
      input: { cibilId: "102277160", accessToken: "sandbox-102277160" },
    });
    expect(other.data?.generateCibilOtp.__typename).toBe("CibilOtpChallenge");
    await page.getByLabel("CIBIL id").fill("102277160");
    const text = await submit(CIBIL_SEND, "cibil-outcome");
    const wait =
      /An OTP was sent to this customer, or its send attempted, within the resend cooldown\. You can send another in ([0-9]+) seconds?\./.exec(
        text,
      );
    // The server's wait, counted down by the page since: at most the cooldown, and no less than what remained of it
    // when the text was read (a loaded machine took 2 s from the first send to the text; a fixed "3 or 4" failed).
    const elapsed = Math.ceil((Date.now() - sentAt) / 1000);
    expect(wait).not.toBeNull();
    expect(Number(wait?.[1])).toBeLessThanOrEqual(COOLDOWN_SECONDS);
    expect(Number(wait?.[1])).toBeGreaterThanOrEqual(Math.max(1, COOLDOWN_SECONDS - elapsed));
    expect(text).toContain("OTP_COOLDOWN");
    const { said } = await waitOutCountdown("cibil-send");
    expect(said).toBeGreaterThan(0);
    expect(await page.getByTestId("cibil-send").innerText()).toBe("Resend OTP");
    await page.screenshot({ path: join(ARTIFACTS, "example-web-throttled.png"), fullPage: true });
  });

  it("CIBIL: AOPay's rejection (…207) is shown with AOPay's own message", async () => {
    await page.getByLabel("CIBIL id").fill("102277207");
    const text = await submit(CIBIL_SEND, "cibil-outcome");
    expect(text).toContain("AOPay declined the request: Amount is Requaired (AOPay code 207).");
    expect(text).toContain("UPSTREAM_REJECTED");
  });

  it("CIBIL: AOPay unavailable (…503) is shown with its Retry-After", async () => {
    await page.getByLabel("CIBIL id").fill("102277503");
    const text = await submit(CIBIL_SEND, "cibil-outcome");
    expect(text).toContain("AOPay is unavailable right now. Try again in 30 seconds.");
    expect(text).toContain("UPSTREAM_UNAVAILABLE · retryable");
  });

  it("CIBIL: when the answer is lost, sending again reuses the key and the server replays the result: one SMS", async () => {
    t.simulator?.resetCalls();
    await page.getByLabel("CIBIL id").fill("102277123");
    const lost = await submitAnswerLost();
    expect(lost).toContain(`Could not reach the server. ${SAME_FORM_AGAIN}`);
    const key = await shownKey("cibil-outcome");

    await expectCibilReplayed(key);
  });

  // The hint said "Sending again is safe: it reuses the same Idempotency-Key" whatever happened to the form meanwhile,
  // but the key follows the input it was made for (use-otp-action.ts): edited values go under a new key.
  it("CIBIL: after a lost answer, the hint says the key goes again only with the same values; changed ones get a new key", async () => {
    t.simulator?.resetCalls();
    const sent = () => sentKeys.filter((k) => k.operation === "GenerateCibilOtp").at(-1)?.key;
    await page.getByLabel("CIBIL id").fill("102277131");
    const lost = await submitAnswerLost();
    expect(lost).toContain(`Could not reach the server. ${SAME_FORM_AGAIN}, so at most one OTP goes out for it.`);
    expect(lost).toContain("Changed values are a new request under a new key, and so is going back to these values");
    const first = await shownKey("cibil-outcome");
    expect(sent()).toBe(first);
    expect(t.simulator?.calls("cibil.generateOtp")).toBe(1);

    // Unchanged, the same key goes again: the test above. Changed: another customer's send, under a new key (the kept
    // one would be refused: IDEMPOTENCY_KEY_REUSED).
    await page.getByLabel("CIBIL id").fill("102277132");
    const other = await submit(CIBIL_SEND, "cibil-outcome");
    expect(other).toContain("The One Time Password is sent to *********.");
    expect(other).not.toMatch(/Replayed\s+yes/);
    expect(sent()).not.toBe(first);
    expect(await shownKey("cibil-outcome")).toBe(sent());
    expect(t.simulator?.calls("cibil.generateOtp")).toBe(2);

    // Back to the first values: a new key again, not the first one (what the hint warns of).
    await page.getByLabel("CIBIL id").fill("102277131");
    await submit(CIBIL_SEND, "cibil-outcome");
    expect(await shownKey("cibil-outcome")).toBe(sent());
    const keys = sentKeys.filter((k) => k.operation === "GenerateCibilOtp").slice(-3);
    expect(new Set(keys.map((k) => k.key)).size).toBe(3); // the first, the changed values', the first values' new one
  });

  it("CIBIL: a 500 after the send (the server failed writing its answer): sending again reuses the key and gets the stored result: one SMS", async () => {
    t.simulator?.resetCalls();
    await page.getByLabel("CIBIL id").fill("102277125");
    // The server sends the OTP, then cannot serialise its answer: 500 INTERNAL_SERVER_ERROR (once). Before,
    // use-otp-action.ts took any CombinedGraphQLErrors for "nothing was sent" and dropped the key: the next click was a
    // new action under a new key (OTP_COOLDOWN here; with the cooldown over, a second SMS).
    let armed = true;
    const restore = unserialisable((value) => {
      if (!armed || value.data?.generateCibilOtp === undefined) return false;
      armed = false;
      return true;
    });
    const failed = await submit(CIBIL_SEND, "cibil-outcome").finally(restore);
    expect(armed).toBe(false);
    expect(failed).toContain("The server failed, possibly after the OTP went out (INTERNAL_SERVER_ERROR).");
    expect(t.simulator?.calls("cibil.generateOtp")).toBe(1);
    const key = await shownKey("cibil-outcome");

    await expectCibilReplayed(key);
  });

  it("CIBIL: two submits in the same instant (one got past the disabled button) send one request: one SMS", async () => {
    t.simulator?.resetCalls();
    await page.getByLabel("CIBIL id").fill("102277150");
    const before = sentKeys.length;
    const requestId = page.getByTestId("cibil-outcome").getByTestId("request-id");
    const previous = await requestId.textContent();
    await page
      .locator("form")
      .first()
      .evaluate((form: { requestSubmit(): void }) => {
        form.requestSubmit();
        form.requestSubmit();
      });
    await page.waitForFunction(
      (old) => document.querySelector('[data-testid="cibil-outcome"] [data-testid="request-id"]')?.textContent !== old,
      previous,
    );
    expect(await page.getByTestId("cibil-outcome").innerText()).toContain(
      "The One Time Password is sent to *********.",
    );
    expect(sentKeys.slice(before)).toEqual([{ operation: "GenerateCibilOtp", key: await shownKey("cibil-outcome") }]);
    expect(t.simulator?.calls("cibil.generateOtp")).toBe(1);
  });

  it("AEPS: a validation error is shown next to the field, and nothing is sent", async () => {
    t.simulator?.resetCalls();
    await page.getByLabel("Mobile").fill("5876543210");
    const text = await submit(AEPS_SEND, "aeps-outcome");
    expect(text).toContain("Please correct the highlighted fields.");
    const mobile = page.getByLabel("Mobile");
    expect(await mobile.getAttribute("aria-invalid")).toBe("true");
    const problemId = (await mobile.getAttribute("aria-describedby"))?.split(" ").find((id) => id.endsWith("-problem"));
    expect(await page.locator(`#${problemId}`).innerText()).toMatch(/digits/);
    expect(await page.getByLabel("Aadhaar").getAttribute("aria-invalid")).toBeNull();
    expect(t.simulator?.calls()).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, "example-web-validation.png"), fullPage: true });
  });

  it("AEPS: a double-click sends one request and one SMS, and shows the masked Aadhaar and mobile", async () => {
    await page.getByLabel("Mobile").fill("9876543240");
    const before = sentKeys.length;
    const text = await submit(AEPS_SEND, "aeps-outcome", "dblclick");
    expect(await page.getByTestId("masked-aadhaar").innerText()).toBe("XXXX XXXX 6789");
    expect(await page.getByTestId("masked-mobile").innerText()).toBe("XXXXXX3240");
    expect(text).toContain("OTP Resend Request Completed");
    expect(text).toContain("TEST4");
    expect(text).toContain("DEMO4");
    expect(await page.getByLabel("Mobile").getAttribute("aria-invalid")).toBeNull();
    expect(sentKeys.slice(before)).toEqual([{ operation: "ResendAepsOtp", key: await shownKey("aeps-outcome") }]);
    expect(t.simulator?.calls("aeps.resendOtp")).toBe(1);
    // The resend countdown covers this mobile and Aadhaar.
    expect(await page.getByTestId("aeps-send").isDisabled()).toBe(true);
    expect(await page.getByTestId("aeps-countdown").innerText()).toMatch(
      /^A new OTP can go to this mobile and Aadhaar in [0-9]+ s\.$/,
    );
    await page.screenshot({ path: join(ARTIFACTS, "example-web.png"), fullPage: true });
  });

  it("AEPS: verifying the resent OTP confirms the registration, showing masked identifiers only", async () => {
    // The form edited after the resend, to try the simulator's no-answer scenario (…504) next: the verification still
    // goes with the values of the resend it follows. It went with the form's live values: the …504 mobile met the
    // scenario, and the page ended on OutcomeUnknown 8.5 s later instead of "Registration verified".
    await page.getByLabel("Mobile").fill("9876543504");
    await page.getByLabel("Aadhaar").fill("2341 2341 2346");
    await page.getByLabel("Registration OTP", { exact: true }).fill("123456");
    const text = await submit("Verify OTP", "aeps-verify-outcome");
    expect(sentInputs.at(-1)).toEqual({
      operation: "VerifyAepsOtp",
      input: {
        userKey: "AOP554N3WEB1",
        mobile: "9876543240",
        aadhaar: "6789 6789 6789",
        primaryKeyId: "TEST4",
        encodeTxnId: "DEMO4",
        otp: "123456",
      },
    });
    expect(text).toContain("Registration verified");
    expect(text).toContain("XXXX XXXX 6789");
    expect(text).toContain("XXXXXX3240");
    expect(text).not.toMatch(/678967896789|6789 6789 6789|9876543240/);
    expect(sentKeys.at(-1)?.operation).toBe("VerifyAepsOtp");
  });

  it("ran without page errors, and without console errors other than the deliberately lost response and 500", () => {
    expect(pageErrors).toEqual([]);
    const deliberate = /net::ERR_CONNECTION_RESET|responded with a status of 500 \(Internal Server Error\)/;
    expect(consoleErrors.filter((message) => !deliberate.test(message))).toEqual([]);
  });
});
