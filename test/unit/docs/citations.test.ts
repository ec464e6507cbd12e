import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import {
  checkNamedThings,
  checkRepository,
  FOLLOWED_PAGES,
  headingAnchors,
  inlineCodeSpans,
} from "../../helpers/doc-citations";

const ROOT = join(__dirname, "../../..");
type Pkg = { scripts: Record<string, string> };

describe("citations and documentation links resolve inside the repository", () => {
  it("holds for this repository", () => {
    const stats = { ids: 0, links: 0 };
    const problems = checkRepository(ROOT, stats);
    // Not vacuous: the code cites about a hundred requirement ids, sections and observations, and the pages link.
    expect(stats.ids).toBeGreaterThan(90);
    expect(stats.links).toBeGreaterThan(50);
    if (problems.length > 0) {
      throw new Error(`${problems.length} unresolved:\n${problems.map((p) => `  ${p.file}: ${p.problem}`).join("\n")}`);
    }
  });
});

describe("the pages a newcomer follows name only what exists", () => {
  it.each(FOLLOWED_PAGES)("%s: every path, npm script, setting and command it names in code", (page) => {
    const problems = checkNamedThings(ROOT, page);
    if (problems.length > 0) {
      throw new Error(
        `${problems.length} named but missing (fix the page, or the name):\n` +
          problems.map((p) => `  ${p.file}: ${p.problem}`).join("\n"),
      );
    }
  });

  // docs/contributing.md named six of the twelve: a writer of clients.md or deploying.md read that nothing checked it.
  it("docs/contributing.md lists exactly these pages", () => {
    const text = readFileSync(join(ROOT, "docs/contributing.md"), "utf8").replace(/\s+/g, " ");
    const sentence = /names in code and that does not exist: ([^(]+)\(`FOLLOWED_PAGES`/.exec(text)?.[1];
    expect(sentence).toBeDefined();
    const named = sentence!
      .replace(/\band\b/g, ",")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s) =>
        s === "this page" ? "docs/contributing.md" : s.includes("/") || s === "README.md" ? s : `docs/${s}`,
      );
    expect([...named].sort()).toEqual([...FOLLOWED_PAGES].sort());
  });
});

describe("docs/contributing.md's Commands table", () => {
  it("names every npm script of package.json (its lifecycle hooks aside)", () => {
    const page = readFileSync(join(ROOT, "docs/contributing.md"), "utf8");
    const table = page.slice(page.indexOf("## Commands"), page.indexOf("## Tests"));
    const named = new Set(
      [...table.matchAll(/^\| (.+?) \|/gm)].flatMap((row) =>
        [...row[1].matchAll(/`(?:npm (?:run )?)?([\w:-]+)[^`]*`/g)].map((m) => m[1]),
      ),
    );
    const scripts = Object.keys((JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as Pkg).scripts);
    expect(scripts.length).toBeGreaterThan(20);
    expect(scripts.filter((s) => !/^(pre|post)/.test(s) && !named.has(s))).toEqual([]);
  });
});

/**
 * The step-by-step guides a newcomer follows to add something: the checks their last step runs must include every
 * test the steps before it say fails on a forgotten step (run as written, the guide for a new endpoint once left out
 * the simulator contract, the suites that walk every guarded sample and the one that reads startAtZero's comment).
 */
describe.each([
  { page: "docs/architecture.md", heading: "## Adding an AOPay endpoint" },
  { page: "docs/contributing.md", heading: "### Adding a field to a result type" },
])("$page, $heading", ({ page, heading }) => {
  const text = readFileSync(join(ROOT, page), "utf8");
  const start = text.indexOf(heading);
  const guide = text.slice(start, text.indexOf("\n#", start + heading.length));
  const lastStep = [...guide.matchAll(/^(\d+)\. /gm)].at(-1);

  it("runs, in its last step, every test the steps before it name", () => {
    expect(start).toBeGreaterThanOrEqual(0);
    expect(lastStep?.index).toBeGreaterThan(0);
    // Files the steps name as they are; one named by a placeholder (`<resource>-<endpoint>.test.ts`) is not checked.
    const named = new Set(guide.slice(0, lastStep!.index).match(/test\/[\w./-]+\.test\.ts/g));
    const checks = guide.slice(lastStep!.index);
    const command = checks.slice(checks.indexOf("npm run jest --")).replace(/\s+/g, " ");
    // What the command runs: a folder, a file, or a placeholder for any name in its folder (`test/e2e/<flow>.test.ts`).
    const run = (command.slice(0, command.indexOf("`")).match(/test\/[\w./<>*-]+/g) ?? []).map(
      (p) => new RegExp(`^${p.replace(/[.]/g, "\\.").replace(/<[^>]+>|\*/g, "[^/]*")}(/|$)`),
    );
    expect(named.size).toBeGreaterThan(2);
    expect([...named].filter((file) => !run.some((p) => p.test(file)))).toEqual([]);
  });
});

describe("docs/architecture.md, a new endpoint's step 1", () => {
  it("names every member an Endpoint must have (src/aopay/endpoint.ts)", () => {
    const source = readFileSync(join(ROOT, "src/aopay/endpoint.ts"), "utf8");
    const start = source.indexOf("export interface Endpoint<");
    const body = source.slice(start, source.indexOf("\n}\n", start));
    const required = [...body.matchAll(/^ {2}(?:readonly )?(\w+)(\??)[:(]/gm)].filter((m) => m[2] === "");
    const page = readFileSync(join(ROOT, "docs/architecture.md"), "utf8").replace(/\s+/g, " ");
    // "the `Endpoint` (`name`, method, path, ...; what follows the list)"
    const list = /the `Endpoint` \(([^);]*)[);]/.exec(page)?.[1];
    const listed = list?.split(",").map((s) => s.trim().replace(/`/g, ""));
    expect(required.length).toBeGreaterThan(5);
    expect(listed?.sort()).toEqual(required.map((m) => m[1]).sort());
  });
});

/** The named-things check on a scratch repository: each kind of missing name must be reported, nothing else. */
describe("the named-things check itself", () => {
  let root: string;
  const write = (rel: string, text: string) => {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
  };
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "named-things-"));
    write(
      "package.json",
      JSON.stringify({
        name: "aopay-graphql",
        scripts: { build: "tsc", start: "node .", test: "jest", "codegen:check": "x" },
      }),
    );
    write(".gitignore", "node_modules/\n/client/dist/\n/client/*.tgz\n");
    write("src/aopay/endpoints/aeps-resend-otp.ts", "export const a = 1;\n");
    write(
      "src/aopay/client.settings.ts",
      'export const s = {\n  AOPAY_DEADLINE_MS: int({}),\n  names: ["OTEL_SERVICE_NAME"],\n};\n',
    );
    write("src/graphql/edge-code.ts", 'export enum EdgeCode { CIRCUIT_OPEN = "CIRCUIT_OPEN" }\n');
    write("test/e2e/throttle.test.ts", "\n");
    write("client/package.json", "{}\n");
    write("Dockerfile", "ARG NODE_IMAGE=node:24-alpine\nFROM ${NODE_IMAGE}\n");
    write("examples/web/src/apollo.ts", "export const url = import.meta.env.VITE_GRAPHQL_URL;\n");
    write(
      "src/protection/redis.ts",
      'log(`redis maxmemory-policy is ${p}, not noeviction`);\nexport const P = ["http/protobuf"];\n',
    );
    write("docs/upstream/aopay-api.md", "GET {AOPAY_BASE_URL}/api/AOP/CibilScore/GenerateOTP\n");
    mkdirSync(join(root, "node_modules/.bin"), { recursive: true });
    writeFileSync(join(root, "node_modules/.bin/tsc"), "");
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const problemsIn = (text: string) => {
    write("docs/page.md", text);
    return checkNamedThings(root, "docs/page.md").map((p) => `${p.file}: ${p.problem}`);
  };

  it("accepts names that exist, placeholders, build output, and code blocks", () => {
    const good =
      "# Page\n\nRun `npm run build`, `npm test`? no: `npm ci`, then `codegen:check` and `tsc --noEmit`.\n" +
      "Edit `src/aopay/endpoints/<resource>-<endpoint>.ts`, `aopay/endpoints/`, `endpoints/aeps-resend-otp.ts`,\n" +
      "`*.settings.ts`, `.settings.ts`, `test/e2e/throttle`; `client/dist/` and `client/x.tgz` are built.\n" +
      "Set `AOPAY_DEADLINE_MS=500 npm start`, `OTEL_SERVICE_NAME`; the code `CIRCUIT_OPEN`; `https://x.dev/a/b.md`,\n" +
      "`POST /graphql`, `@scope/pkg`; `application/graphql-response+json`, `*/*`, `DD/MM/YYYY`, `01/01/2000`;\n" +
      "AOPay's `CibilScore/GenerateOTP`, `{AOPAY_BASE_URL}/api/AOP/CibilScore/GenerateOTP`, `.../CibilScore/GenerateOTP`." +
      "\n\n```sh\nnpm run nothing-here src/none.ts\n```\n";
    expect(problemsIn(good)).toEqual([]);
  });

  // docs/clients.md, docs/configuration.md, docs/deploying.md, client/README.md and examples/web/README.md name these.
  it("accepts what the operator's and client author's pages name that is not a file, script or setting here", () => {
    const good =
      "# Page\n\nIn a Vite app (`npm create vite@latest my-app -- --template react-ts`), save it as\n" +
      "`src/SendOtp.tsx`;\n" +
      "images in a `compose.override.yaml`. `npm install --install-links …/client/dist`, `npm install\n" +
      "…/aopay-graphql-client.tgz`, `npm install ../aopay-graphql/client/aopay-graphql-client.tgz`;\n" +
      "`VITE_GRAPHQL_URL=http://localhost:4100/graphql npm run build`, `--build-arg\n" +
      "NODE_IMAGE=registry.example.com/library/node:24-alpine`; `node:cluster` workers on `node:24-alpine`;\n" +
      "`maxmemory-policy noeviction`, `appendonly yes`; it logs `redis maxmemory-policy is ..., not noeviction`;\n" +
      "`http/protobuf`; Prometheus scrapes `<container>:9464/metrics`; `kubectl logs --previous <pod>`.\n";
    expect(problemsIn(good)).toEqual([]);
  });

  // Built by concatenation where a form would otherwise be one of the broken names this file must not carry.
  const cases: Array<[string, string, RegExp]> = [
    ["a missing file", "Edit `src/graphql/nothing.ts`.", /names src\/graphql\/nothing\.ts, which is not in the/],
    ["a missing folder", "See `src/webhooks/`.", /names src\/webhooks\/, which is not in the repository/],
    ["a placeholder under a missing folder", "`src/routes/<resource>.ts`", /names src\/routes\/<resource>\.ts/],
    ["a missing npm script", "Run `npm run docs:lint`.", /`npm run docs:lint`, which is not a script of package/],
    ["a missing bare script", "`format:fix`", /the script `format:fix`, which package\.json does not have/],
    ["a setting no declaration has", "`AOPAY_TIMEOUT_MS=5 npm start`", /sets AOPAY_TIMEOUT_MS, which no \*\.settings/],
    ["a name neither setting nor code", "`REDIS_PREFIX`", /names REDIS_PREFIX, which is neither a setting nor a name/],
    ["a command no clone has", "`" + "farm-studio look" + "`", /the command `farm-studio`, which neither/],
    ["an AOPay endpoint its contract does not name", "`CibilScore/" + "GenerateOtp`", /names CibilScore\/GenerateOtp/],
    // Code spans wrapped across lines, as prose wrapped at 120 columns has them: read per line, these were not seen.
    ["a missing script in a span over two lines", "Run `npm run\ndocs:" + "lint` first.", /`npm run docs:lint`, which/],
    [
      "a missing file in a span over three lines",
      "- See `cat\n  src/graphql/\n  nothing.ts` too",
      /names nothing\.ts, which/,
    ],
    [
      "a setting in a span of two backticks",
      "Set ``AOPAY_TIMEOUT_MS=5 npm\nstart``.",
      /sets AOPAY_TIMEOUT_MS, which no/,
    ],
    // Next to what the pages name on purpose (the test above), still wrong.
    ["an elided path to nothing", "`npm install …/client/" + "nothing/`", /names …\/client\/nothing\/, which is/],
    ["the clone's path to nothing", "`../aopay-graphql/src/" + "none.ts`", /names \.\.\/aopay-graphql\/src\/none\.ts,/],
    ["a Vite variable the example does not read", "`VITE_API" + "_URL=x npm start`", /sets VITE_API_URL, which no/],
    ["a message the code does not write", "`redis maxmemory" + " was ..., no`", /the command `redis`, which/],
  ];
  it.each(cases)("reports %s", (_name, text, expected) => {
    expect(problemsIn(`# Page\n\n${text}\n`)).toEqual([expect.stringMatching(expected)]);
  });
});

/** CommonMark's code spans (https://spec.commonmark.org/0.31.2/#code-spans), as the checks read them. */
describe("inline code spans", () => {
  it.each([
    ["one line", "a `b c` d", ["b c"]],
    ["across line breaks, each a space (indentation dropped)", "- a `b\n  c\nd` e", ["b c d"]],
    ["closed by a run as long as the opening", "``a ` b`` and ```` ```ts ````", ["a ` b", "```ts"]],
    ["one space stripped from each side, only when both are there", "`` `x` `` ` y`", ["`x`", " y"]],
    ["an unclosed run is text", "a ``b` c", []],
    ["an escaped backtick opens nothing", "a \\`b `c`", ["c"]],
    ["not past a blank line", "a `b\n\nc` d", []],
    ["not past a table row or a heading", "| `a |\n| b` |\n# `c\nd`", []],
    ["not in a fenced block, indented in a list item too", "- x\n\n  ```sh\n  `a`\n  ```\n\n`b`", ["b"]],
  ])("%s", (_name, markdown, texts) => {
    expect(inlineCodeSpans(markdown).map((s) => s.text)).toEqual(texts);
  });

  it("gives each span's offsets in the page", () => {
    const page = "# T\n\nRun `npm\nrun x`.\n";
    const [span] = inlineCodeSpans(page);
    expect(page.slice(span.index, span.end)).toBe("`npm\nrun x`");
  });
});

describe("GitHub heading anchors", () => {
  it("lower-case, drop punctuation and code marks, hyphenate spaces, number repeats", () => {
    const anchors = headingAnchors(
      "# Top\n## `cibilCreditHistory` and `CibilOtpVerified.creditHistory`: the credit history\n" +
        "### 1.2 GenerateOTP (core endpoint)\n## Top\n```sh\n# not a heading\n```\n",
    );
    expect([...anchors]).toEqual([
      "top",
      "cibilcredithistory-and-cibilotpverifiedcredithistory-the-credit-history",
      "12-generateotp-core-endpoint",
      "top-1",
    ]);
  });
});

/** The checker on a scratch repository: each kind of broken citation or link must be reported. */
describe("the checker itself", () => {
  let root: string;
  const write = (rel: string, text: string) => {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
  };
  const problemsWith = (rel: string, text: string) => {
    write(rel, text);
    try {
      return checkRepository(root).map((p) => `${p.file}: ${p.problem}`);
    } finally {
      rmSync(join(root, rel));
    }
  };

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "citations-"));
    write("README.md", "# Project\n\nSee [the API](docs/api.md#results-and-errors) and [docs](docs/).\n");
    write("docs/api.md", "# API\n\n## Results and errors\n\nText.\n\n## Results: the types\n");
    write(
      "docs/security-requirements.md",
      "# Req\n\n## A. Surface\n\n**A1. One.**\n\n**A2. Two.**\n\n## B. OTP\n\n**B1. Cooldown.**\n",
    );
    write(
      "docs/upstream/aopay-api.md",
      "# AOPay\n\n## 1. CIBIL\n\n### 1.4 GetCreditHistory\n\n## 5. Observations: quirks\n\n1. **GET with a body**\n2. **Envelopes**\n\n" +
        "## 7. Open questions to raise with AOPay\n\n1. Methods?\n",
    );
    write(
      "docs/design/stack.md",
      "# Stack\n\n## Pitfalls found, with fixes\n\n1. **Wrong dist-tags.**\n2. **Gaps.**\n",
    );
    write("docs/design/style.md", "# Style\n\n## 9. House style: principles\n\n1. **One module.**\n");
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("accepts a scratch repository whose citations and links all resolve", () => {
    const good =
      "// docs/security-requirements.md A1, A2/B1; docs/security-requirements.md A1-A2 and docs/security-requirements.md B\n" +
      "// docs/upstream/aopay-api.md §1.4, docs/upstream/aopay-api.md Observations 1-2, docs/upstream/aopay-api.md §7 question 1\n" +
      "/** docs/design/stack.md pitfall 2 and docs/design/style.md\n * principle 1 (README.md, docs/api.md) */\n" +
      '// docs/api.md "Results and errors"; (docs/api.md, "API" and "Results\n// and errors"); docs/api.md "Results"\n';
    expect(problemsWith("src/good.ts", good)).toEqual([]);
  });

  // Built by concatenation so that this file itself carries none of the broken forms it tests.
  const cases: Array<[string, string, string, RegExp]> = [
    [
      "a document that is not in the repository",
      "src/a.ts",
      `// see ${"SECURITY"}.md A1\n`,
      /SECURITY\.md, which is not in the repository/,
    ],
    [
      "a requirement id the document lacks",
      "src/b.ts",
      "// docs/security-requirements.md A9\n",
      /security-requirements\.md A9, which/,
    ],
    [
      "a range reaching past the last id",
      "src/c.ts",
      "// (docs/security-requirements.md A1-A3)\n",
      /security-requirements\.md A3, which/,
    ],
    [
      "a section the upstream contract lacks",
      "test/d.test.ts",
      "// docs/upstream/aopay-api.md §1.5\n",
      /aopay-api\.md §1\.5, which/,
    ],
    [
      "an observation it lacks",
      "src/e.ts",
      "// docs/upstream/aopay-api.md Observation 15\n",
      /aopay-api\.md Observation 15, which/,
    ],
    ["an open question it lacks", "src/f.ts", "// docs/upstream/aopay-api.md §7 question 9\n", /§7 question 9, which/],
    [
      "a pitfall the stack note lacks",
      "scripts/g.js",
      "// docs/design/stack.md pitfall 11\n",
      /stack\.md pitfall 11, which/,
    ],
    [
      "a principle the style note lacks, over two comment lines",
      "src/h.ts",
      "/* docs/design/style.md\n * principle 7 */\n",
      /style\.md principle 7, which/,
    ],
    ["a ../shared reference", "src/i.ts", `// see ${".."}/shared/design/notes.txt\n`, /\.\.\/shared/],
    ["an issue number", "bench/j.js", `// targets of ${"iss"}ue 7\n`, /issues are not in the repository/],
    [
      "a link to a missing file",
      "docs/k.md",
      "# K\n\nSee [there](missing.md).\n",
      /docs\/k\.md:3: links to missing\.md/,
    ],
    ["a link to a missing anchor", "docs/l.md", "# L\n\nSee [errors](api.md#errors).\n", /has no heading #errors/],
    ["a link to a missing anchor in the same page", "docs/m.md", "# M\n\n[up](#top)\n", /has no heading #top/],
    [
      "a reference-style link to a missing file",
      "docs/n.md",
      "# N\n\n[x][y]\n\n[y]: ../nowhere/x.md\n",
      /links to \.\.\/nowhere\/x\.md/,
    ],
    [
      "a section cited by a heading the document lacks",
      "src/p.ts",
      '// docs/api.md "Results and error"\n',
      /cites docs\/api\.md "Results and error", which is not a heading of it/,
    ],
    [
      "a section cited by a label relative to now",
      "bench/q.js",
      `// (docs/api.md, "${"This"} round")\n`,
      /cites docs\/api\.md "This round": a label relative to now/,
    ],
    [
      "a run named by its place at the top of a document",
      "docs/s.md",
      `# S\n\nIn the full run at ${"the"}\ntop, 0.95×.\n`,
      /docs\/s\.md:3: says "run at the top": the next round puts another run there/,
    ],
    [
      "a heading relative to now",
      "docs/r.md",
      `# R\n\n## Two ${"rounds"} before\n`,
      /docs\/r\.md: has the heading "Two rounds before", relative to now/,
    ],
  ];
  it.each(cases)("reports %s", (_name, rel, text, expected) => {
    const problems = problemsWith(rel, text);
    expect(problems).toEqual([expect.stringMatching(expected)]);
  });

  it("ignores links and paths inside code", () => {
    expect(problemsWith("docs/o.md", "# O\n\n```md\n[x](missing.md)\n```\n\n`[y](gone.md#z)`\n")).toEqual([
      // A path in code is still a citation of that file: only the link syntax is ignored there.
      expect.stringMatching(/docs\/o\.md:4: cites missing\.md/),
      expect.stringMatching(/docs\/o\.md:7: cites gone\.md/),
    ]);
  });
});
