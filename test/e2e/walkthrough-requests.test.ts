import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { request } from "undici";
import {
  DEFAULT_OTP_CLIENT,
  DEFAULT_OTP_COOLDOWN_SECONDS,
  DEFAULT_OTP_DAILY,
  DEFAULT_OTP_GLOBAL,
  DEFAULT_OTP_IP,
  DEFAULT_OTP_PREFIX,
  DEFAULT_OTP_VERIFY,
  DEFAULT_OTP_WINDOW,
} from "../../src/config";
import { apiExamples } from "../helpers/api-page";
import { startTestStack, type TestStack } from "../helpers/stack";
import {
  SANDBOX_RESULTS,
  SANDBOX_SECTION,
  walkthroughOperations,
  walkthroughSection,
} from "../helpers/walkthrough-page";

/**
 * The copy-paste requests of docs/walkthrough.md ("With curl") and docs/requests.http, run as a developer runs them
 * against `npm start`: the curl commands verbatim through `sh -c` with the machine's curl binary, the .http requests
 * as VS Code's REST Client or a JetBrains IDE would send them. Only the documented origin (http://localhost:4000) is
 * replaced by the test server's, and `<placeholders>` by the values of earlier answers. The OTP budgets are the
 * defaults, so the documented order must also hold under the real cooldowns.
 */
const DOCUMENTED_ORIGIN = "http://localhost:4000";
const ROOT = join(__dirname, "../..");

const DEFAULT_OTP_BUDGETS: Record<string, string> = {
  OTP_COOLDOWN_SECONDS: String(DEFAULT_OTP_COOLDOWN_SECONDS),
  OTP_WINDOW_MAX: String(DEFAULT_OTP_WINDOW.points),
  OTP_DAILY_MAX: String(DEFAULT_OTP_DAILY.points),
  OTP_PREFIX_MAX: String(DEFAULT_OTP_PREFIX.points),
  OTP_IP_MAX: String(DEFAULT_OTP_IP.points),
  OTP_CLIENT_MAX: String(DEFAULT_OTP_CLIENT.points),
  OTP_GLOBAL_MAX: String(DEFAULT_OTP_GLOBAL.points),
  OTP_VERIFY_MAX: String(DEFAULT_OTP_VERIFY.points),
};

/** What each step must answer, in order: both flows to their end, then the refused plain GET. */
const EXPECTED = [
  { typename: "CibilCustomerRegistered" },
  { typename: "CibilOtpChallenge" },
  { typename: "CibilOtpVerified" },
  { typename: "CibilCreditHistory" },
  { typename: "AepsOtpResent" },
  { typename: "AepsRegistrationVerified" },
  { status: 400, code: "BAD_REQUEST" },
];

interface Answer {
  status?: number;
  body: {
    data?: Record<string, Record<string, unknown>> | null;
    errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
  };
}

/** The result of the answer's one root field, or undefined when there is none. */
function resultOf(answer: Answer): Record<string, unknown> | undefined {
  return answer.body.data ? Object.values(answer.body.data)[0] : undefined;
}

/** Remembers what later steps' placeholders need, under the names the docs use. */
function remember(filled: Record<string, string>, answer: Answer): void {
  const result = resultOf(answer);
  if (result?.__typename === "CibilCustomerRegistered") {
    filled.cibilId = result.cibilId as string;
    filled.accessToken = result.accessToken as string;
  }
  if (result?.__typename === "CibilOtpChallenge") filled["question.key"] = (result.question as { key: string }).key;
}

function fill(text: string, filled: Record<string, string>): string {
  return text.replace(/<([A-Za-z][\w.]*)>/g, (_m, name: string) => {
    if (!(name in filled)) throw new Error(`placeholder <${name}> has no value from an earlier answer`);
    return filled[name];
  });
}

function expectAnswer(answer: Answer, expected: (typeof EXPECTED)[number], step: string): void {
  if ("typename" in expected) {
    expect({ step, errors: answer.body.errors, typename: resultOf(answer)?.__typename }).toEqual({
      step,
      errors: undefined,
      typename: expected.typename,
    });
  } else {
    expect({ step, status: answer.status, code: answer.body.errors?.[0]?.extensions?.code }).toEqual({
      step,
      status: expected.status,
      code: expected.code,
    });
    expect(answer.body.data).toBeUndefined();
  }
}

/** `curl -i` prints the status line and headers, then a blank line, before the body. */
function parseCurlOutput(out: string): Answer {
  if (!out.startsWith("HTTP/")) return { body: JSON.parse(out) as Answer["body"] };
  const blank = /\r?\n\r?\n/.exec(out)!;
  return {
    status: Number(out.split(" ")[1]),
    body: JSON.parse(out.slice(blank.index + blank[0].length)) as Answer["body"],
  };
}

const DATE = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/;
/**
 * Values the page says are "those of the run that produced them" (order ids, request ids, the report's dates): compared
 * by their form. Everything else an answer holds must be what the page shows.
 */
const RUN_SPECIFIC: Record<string, RegExp> = {
  orderId: /^[0-9]{18}$/,
  client_order_id: /^[0-9]{18}$/,
  requestId: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
  scoreFetchDate: DATE,
  cibil_score_fetch_date: DATE,
  opened_on: DATE,
  date: DATE,
};

/** `actual` equals `documented`, but for RUN_SPECIFIC keys, whose values need only have the same form. */
function expectAsDocumented(actual: unknown, documented: unknown, path: string): void {
  const key = path.slice(path.lastIndexOf(".") + 1);
  if (key in RUN_SPECIFIC && typeof documented === "string") {
    expect({ path, form: RUN_SPECIFIC[key].test(String(actual)) }).toEqual({ path, form: true });
    return;
  }
  if (documented !== null && typeof documented === "object") {
    expect({ path, keys: Object.keys(actual as object) }).toEqual({ path, keys: Object.keys(documented) });
    for (const [k, value] of Object.entries(documented))
      expectAsDocumented((actual as Record<string, unknown>)[k], value, `${path}.${k}`);
    return;
  }
  expect({ path, value: actual }).toEqual({ path, value: documented });
}

/** The "With curl" section's commands (one per ```sh block) and the answer documented after each, if any. */
function documentedCurl(): Array<{ command: string; documented?: string }> {
  const page = readFileSync(join(ROOT, "docs/walkthrough.md"), "utf8");
  const start = page.indexOf("\n## With curl");
  expect(start).toBeGreaterThan(0);
  const end = page.indexOf("\n## ", start + 5);
  const section = page.slice(start, end === -1 ? undefined : end);
  const steps: Array<{ command: string; documented?: string }> = [];
  for (const m of section.matchAll(/```(sh|json|http)\n([\s\S]*?)```/g)) {
    if (m[1] === "sh") steps.push({ command: m[2].trim() });
    else if (steps.length > 0) steps[steps.length - 1].documented = m[2];
  }
  return steps;
}

interface HttpFileRequest {
  name: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

/**
 * The .http format as VS Code's REST Client and the JetBrains HTTP Client read it: `@name = value` file variables,
 * requests separated by `###` lines, `#`/`//` comments, a request line, headers, a blank line, the body.
 */
function parseHttpFile(text: string): { variables: Record<string, string>; requests: HttpFileRequest[] } {
  const variables: Record<string, string> = {};
  const blocks: Array<{ name: string; lines: string[] }> = [{ name: "", lines: [] }];
  for (const line of text.split(/\r?\n/)) {
    const separator = /^###\s*(.*)$/.exec(line);
    if (separator) blocks.push({ name: separator[1], lines: [] });
    else blocks[blocks.length - 1].lines.push(line);
  }
  const requests: HttpFileRequest[] = [];
  for (const { name, lines } of blocks) {
    let i = 0;
    for (; i < lines.length; i++) {
      const line = lines[i].trim();
      const variable = /^@([\w-]+)\s*=\s*(.*)$/.exec(line);
      if (variable) variables[variable[1]] = variable[2].trim();
      else if (line !== "" && !line.startsWith("#") && !line.startsWith("//")) break;
    }
    if (i >= lines.length) continue;
    const [method, url] = lines[i].trim().split(/\s+/);
    const headers: Record<string, string> = {};
    for (i++; i < lines.length && lines[i].trim() !== ""; i++) {
      const colon = lines[i].indexOf(":");
      headers[lines[i].slice(0, colon).trim().toLowerCase()] = lines[i].slice(colon + 1).trim();
    }
    const body = lines
      .slice(i + 1)
      .join("\n")
      .trim();
    requests.push({ name, method, url, headers, body: body || undefined });
  }
  return { variables, requests };
}

function substitute(text: string, variable: (name: string) => string): string {
  return text.replace(/\{\{\s*([\w-]+)\s*\}\}/g, (_m, name: string) => variable(name));
}

describe("docs/walkthrough.md: the curl commands, run verbatim with curl against the simulator", () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack(DEFAULT_OTP_BUDGETS);
  });
  afterAll(() => t?.stop());

  it("answers every step as documented, to the end of both flows", async () => {
    const steps = documentedCurl();
    expect(steps).toHaveLength(EXPECTED.length);
    const filled: Record<string, string> = {};
    for (const [index, step] of steps.entries()) {
      expect(step.command).toMatch(/^curl /);
      expect(step.command).toContain(DOCUMENTED_ORIGIN);
      const command = fill(step.command, filled).replaceAll(DOCUMENTED_ORIGIN, t.baseUrl);
      const { stdout } = await promisify(execFile)("sh", ["-c", command], { timeout: 15_000 });
      const answer = parseCurlOutput(stdout);
      expectAnswer(answer, EXPECTED[index], step.command.slice(0, 120));
      // The answer printed in the docs after the command names the same result.
      if (step.documented !== undefined) {
        const documented = parseCurlOutput(step.documented);
        expect(resultOf(documented)?.__typename ?? documented.body.errors?.[0]?.extensions?.code).toBe(
          resultOf(answer)?.__typename ?? answer.body.errors?.[0]?.extensions?.code,
        );
        // ... and is the answer itself, as a freshly started server gives it ("Each answer shown is ...").
        expectAsDocumented(answer, documented, `step ${index + 1}`);
      }
      remember(filled, answer);
    }
    // Every documented command has its answer printed after it.
    expect(steps.filter((s) => s.documented === undefined).map((s) => s.command.slice(0, 80))).toEqual([]);
  });
});

/**
 * The page says its curl commands "use a customer other than the Sandbox steps above, so that running both within a
 * minute does not meet the 60 s OTP cooldown". A newcomer who walked the Sandbox section and then the curl commands
 * met it: both AEPS sections named one registration (user key `AOP554N3XXXX`, references `TEST` and `DEMO`), each of
 * which is a destination of its own (docs/security.md "Which destinations a send counts on"), so the curl AEPS resend
 * answered `OtpThrottled`. The two fresh-server tests above could not see it. docs/api.md's examples, read next, met
 * it the same way (the Sandbox section's Aadhaar and Asha's mobile, the curl section's user key and references).
 */
describe("docs/walkthrough.md's Sandbox section, its curl commands, then docs/api.md's examples, on one server", () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack(DEFAULT_OTP_BUDGETS);
  });
  afterAll(() => t?.stop());

  it("meets no cooldown in the curl commands nor in the examples", async () => {
    const filled: Record<string, string> = {};
    const sandbox: unknown[] = [];
    for (const op of walkthroughOperations(walkthroughSection(SANDBOX_SECTION))) {
      const res = await t.gql(fill(op, filled));
      const answer: Answer = { body: res.body as Answer["body"] };
      sandbox.push(resultOf(answer)?.__typename);
      remember(filled, answer);
    }
    // The Sandbox section's own repeat is refused on purpose; the rest reach the end of both flows.
    expect(sandbox).toEqual(SANDBOX_RESULTS);
    const curl: Record<string, string> = {};
    for (const [index, step] of documentedCurl().entries()) {
      const command = fill(step.command, curl).replaceAll(DOCUMENTED_ORIGIN, t.baseUrl);
      const { stdout } = await promisify(execFile)("sh", ["-c", command], { timeout: 15_000 });
      const answer = parseCurlOutput(stdout);
      expectAnswer(answer, EXPECTED[index], step.command.slice(0, 120));
      remember(curl, answer);
    }
    // The member each example shows, not OtpThrottled (the ids the simulator issues follow the calls before).
    const examples = apiExamples();
    const answered: unknown[] = [];
    for (const example of examples) {
      const res = await t.gql(example.document, example.variables);
      answered.push(resultOf({ body: res.body as Answer["body"] })?.__typename);
    }
    expect(answered).toEqual(examples.map((e) => resultOf({ body: e.result as Answer["body"] })?.__typename));
  });
});

describe("docs/requests.http: the same requests, sent as an HTTP client extension sends them", () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack(DEFAULT_OTP_BUDGETS);
  });
  afterAll(() => t?.stop());

  it("answers every request as documented, to the end of both flows", async () => {
    const { variables, requests } = parseHttpFile(readFileSync(join(ROOT, "docs/requests.http"), "utf8"));
    expect(variables.host).toBe(DOCUMENTED_ORIGIN);
    expect(requests.map((r) => r.method)).toEqual(["POST", "POST", "POST", "GET", "POST", "POST", "GET"]);
    const filled: Record<string, string> = {};
    for (const [index, r] of requests.entries()) {
      // A file variable whose value is a <placeholder> stands for a value the reader pastes from an earlier answer.
      const value = (name: string) => {
        if (!(name in variables)) throw new Error(`{{${name}}} is not defined in requests.http`);
        return name === "host" ? t.baseUrl : fill(variables[name], filled);
      };
      const res = await request(substitute(r.url, value), {
        method: r.method as "GET" | "POST",
        headers: Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, substitute(v, value)])),
        body: r.body === undefined ? undefined : substitute(r.body, value),
      });
      const answer: Answer = { status: res.statusCode, body: JSON.parse(await res.body.text()) as Answer["body"] };
      expectAnswer(answer, EXPECTED[index], `${r.name}: ${r.method} ${r.url}`);
      if ("typename" in EXPECTED[index]) expect(answer.status).toBe(200);
      remember(filled, answer);
    }
  });
});
