import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  buildSchema,
  type GraphQLEnumType,
  type GraphQLInputObjectType,
  GraphQLObjectType,
  GraphQLUnionType,
  getNamedType,
} from "graphql";
import { DEFAULT_GRAPHQL_LIMITS } from "../../../src/config";
import { MAX_ERROR_LOCATIONS } from "../../../src/graphql/plugins/error-format";
import {
  DEFAULT_MAX_UNAUTHENTICATED_CONNECTIONS_PER_IP,
  DEFAULT_SERVER_HEADERS_TIMEOUT_MS,
  DEFAULT_SERVER_REQUEST_TIMEOUT_MS,
} from "../../../src/http/server.settings";
import {
  DEFAULT_OTP_COOLDOWN_SECONDS,
  DEFAULT_OTP_DAILY,
  DEFAULT_OTP_VERIFY,
  DEFAULT_OTP_VERIFY_CLIENT,
  DEFAULT_OTP_VERIFY_IP,
  DEFAULT_OTP_WINDOW,
  DEFAULT_READ_CIBIL,
  DEFAULT_READ_CLIENT,
  DEFAULT_READ_IP,
} from "../../../src/protection/otp-throttle.settings";
import { DEFAULT_CIBIL_CONSENT_TTL_SECONDS } from "../../../src/protection/protection.settings";

const ROOT = join(__dirname, "../../..");
const readme = readFileSync(join(ROOT, "README.md"), "utf8");
const schema = buildSchema(readFileSync(join(ROOT, "schema/schema.graphql"), "utf8"));

/** Rows of the Markdown table whose header row starts with `| first |`, as arrays of cells. */
function tableRows(markdown: string, first: string): string[][] {
  const lines = markdown.split("\n");
  const start = lines.findIndex((l) => l.startsWith(`| ${first} |`));
  expect(start).toBeGreaterThanOrEqual(0);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith("|")) break;
    rows.push(
      line
        .split("|")
        .slice(1, -1)
        .map((c) => c.trim()),
    );
  }
  return rows;
}

const code = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);

/** The six flow operations (serviceInfo is mentioned apart) and their result unions, from the committed schema. */
function operations(): Map<string, { mutation: boolean; union: GraphQLUnionType }> {
  const ops = new Map<string, { mutation: boolean; union: GraphQLUnionType }>();
  for (const [root, mutation] of [
    [schema.getQueryType(), false],
    [schema.getMutationType(), true],
  ] as const) {
    for (const field of Object.values((root as GraphQLObjectType).getFields())) {
      const type = getNamedType(field.type);
      if (type instanceof GraphQLUnionType) ops.set(field.name, { mutation, union: type });
    }
  }
  return ops;
}

describe("README's operation tables match schema/schema.graphql", () => {
  const ops = operations();

  it("lists every operation with its result union and success type", () => {
    const rows = tableRows(readme, "flow");
    expect(rows.map((r) => code(r[1])[0]).sort()).toEqual([...ops.keys()].sort());
    for (const row of rows) {
      const op = ops.get(code(row[1])[0])!;
      const [unionName, success] = code(row[4]);
      expect({ op: row[1], unionName, success }).toEqual({
        op: row[1],
        unionName: op.union.name,
        success: op.union.getTypes().find((t) => !t.getInterfaces().some((i) => i.name === "Failure"))!.name,
      });
    }
  });

  it("says in which unions each failure type is, and names them all", () => {
    const failures = new Set(
      [...ops.values()].flatMap((o) =>
        o.union
          .getTypes()
          .filter((t) => t.getInterfaces().some((i) => i.name === "Failure"))
          .map((t) => t.name),
      ),
    );
    const rows = tableRows(readme, "failure");
    expect(rows.map((r) => code(r[0])[0]).sort()).toEqual([...failures].sort());
    for (const row of rows) {
      const failure = code(row[0])[0];
      const actual = [...ops]
        .filter(([, o]) => o.union.getTypes().some((t) => t.name === failure))
        .map(([name]) => name)
        .sort();
      const where = row[1];
      const claimed = [...ops]
        .filter(([name, o]) => {
          if (where === "every operation") return true;
          if (where === "every mutation") return o.mutation;
          const but = /^every mutation but `(\w+)`$/.exec(where);
          if (but) return o.mutation && name !== but[1];
          return code(where).includes(name);
        })
        .map(([name]) => name)
        .sort();
      expect({ failure, operations: claimed }).toEqual({ failure, operations: actual });
    }
  });
});

/**
 * The other lists of operations a reader meets: docs/api.md's table and contents, and the root types' descriptions
 * (src/graphql/schema.ts ROOT_TYPE_DESCRIPTIONS: what Sandbox's and GraphiQL's docs panels show first). A newcomer
 * adding an operation by docs/architecture.md's guide left all three without it, and no check failed.
 */
describe("docs/api.md and the root types' descriptions name every operation", () => {
  const ops = operations();
  const api = readFileSync(join(ROOT, "docs/api.md"), "utf8");

  it("docs/api.md's operations table lists each once, and its contents link each", () => {
    const rows = tableRows(api, "flow");
    expect(rows.map((r) => code(r[2])[0]).sort()).toEqual([...ops.keys()].sort());
    const contents = api.slice(0, api.indexOf("\n## "));
    const linked = [...contents.matchAll(/\[`(\w+)`\]\(#/g)].map((m) => m[1]).sort();
    expect(linked).toEqual([...ops.keys()].sort());
  });

  // Its table of results named 17 of the 18 codes: a client branching on `code` had no row for UpstreamUnavailable's
  // OVERLOADED (the calls to AOPay at their limit, nothing sent).
  it("docs/api.md's table of results names every FailureCode of the schema, each on a failure type, and no other", () => {
    const rows = tableRows(api, "type");
    const codes = (schema.getType("FailureCode") as GraphQLEnumType).getValues().map((v) => v.name);
    expect([...new Set(rows.map((r) => code(r[1])[0]))].sort()).toEqual([...codes].sort());
    const failureTypes = Object.values(schema.getTypeMap())
      .filter((t) => t instanceof GraphQLObjectType && t.getInterfaces().some((i) => i.name === "Failure"))
      .map((t) => t.name);
    expect(rows.map((r) => code(r[0])[0]).filter((t) => !failureTypes.includes(t))).toEqual([]);
  });

  // The rules tables are what a client validates against before sending: an input field renamed or added in the
  // schema left its operation's table naming the old one, and nothing compared them.
  it("docs/api.md's `input field | rule` tables name exactly the fields of their operation's input type", () => {
    const inputs = new Map<string, string[]>();
    for (const root of [schema.getQueryType()!, schema.getMutationType()!])
      for (const field of Object.values(root.getFields())) {
        const input = field.args.find((a) => a.name === "input");
        if (input)
          inputs.set(field.name, Object.keys((getNamedType(input.type) as GraphQLInputObjectType).getFields()));
      }
    const tables = api
      .split("\n## ")
      .filter((section) => section.includes("\n| input field | rule |"))
      .map((section) => {
        const operation = /^`(\w+)`/.exec(section)?.[1] ?? section.slice(0, 40);
        const fields = tableRows(section, "input field").flatMap((r) => code(r[0]));
        return { operation, fields: fields.sort() };
      });
    // Not vacuous: generateCibilOtp, resendAepsOtp and registerCibilCustomer have one.
    expect(tables.length).toBeGreaterThanOrEqual(3);
    for (const { operation, fields } of tables)
      expect({ operation, fields }).toEqual({ operation, fields: [...(inputs.get(operation) ?? [])].sort() });
  });

  it("the Query and Mutation types' descriptions name each of their fields", () => {
    for (const root of [schema.getQueryType()!, schema.getMutationType()!]) {
      const unnamed = Object.keys(root.getFields()).filter(
        (f) => !new RegExp(`\\b${f}\\b`).test(root.description ?? ""),
      );
      expect({ root: root.name, notInItsDescription: unnamed }).toEqual({ root: root.name, notInItsDescription: [] });
    }
  });
});

/**
 * The security promises' last column names the tests that prove each: a bare name is test/e2e/<name>.test.ts, a path
 * `test/...` a test file by its stem. A renamed or merged test left the promise pointing at nothing, and the paths
 * check of the pages (test/helpers/doc-citations.ts) reads neither bare names nor stems without a slash. A bare name
 * counts where it starts a clause (the cell's start, after `; `, `, ` or `(`): `on \`volatile-lru\`` is a policy.
 */
describe("README's security promises name tests that exist", () => {
  const named = (cell: string) =>
    [...cell.matchAll(/(?:^|; |, |\()`([a-z][a-z0-9-]*|test\/[\w/-]+)`/g)].map((m) => m[1]);
  const exists = (name: string) =>
    name.startsWith("test/")
      ? existsSync(join(ROOT, `${name}.test.ts`)) || existsSync(join(ROOT, name))
      : existsSync(join(ROOT, `test/e2e/${name}.test.ts`));

  it("each one, in every row", () => {
    const rows = tableRows(readme, "promise");
    const names = rows.flatMap((r) => named(r[2]));
    // Not vacuous: 17 promises, about 40 names.
    expect(rows.length).toBeGreaterThan(15);
    expect(names.length).toBeGreaterThan(35);
    expect(names.filter((n) => !exists(n))).toEqual([]);
  });

  it("reads a bare name and a path, not a value in the text", () => {
    const cell = "`throttle`: refused; `test/unit/protection/otp-throttle`, `memory-caps` (`test/unit/graphql/limits`)";
    expect(named(`${cell}: on \`volatile-lru\` every write refused`)).toEqual([
      "throttle",
      "test/unit/protection/otp-throttle",
      "memory-caps",
      "test/unit/graphql/limits",
    ]);
    expect(exists("throttle") && exists("test/unit/protection/otp-throttle")).toBe(true);
    expect(exists("throttles") || exists("test/unit/protection/otp-throttles")).toBe(false);
  });
});

/**
 * The defaults README.md quotes (the operations and failure tables, the security promises), each written from the
 * constant the setting takes its default from, with the unit the README's words assume: a default changed without
 * the README, or the README's figure changed alone, fails here. What each default does is proved by the test the
 * promise names; this only keeps the README's number the code's.
 */
describe("README's figures are the defaults of the settings they describe", () => {
  const limits = DEFAULT_GRAPHQL_LIMITS;
  const minutes = (seconds: number) => seconds / 60;
  const facts: Array<[string, boolean]> = [
    [
      `cooldown ${DEFAULT_OTP_COOLDOWN_SECONDS} s, ${DEFAULT_OTP_WINDOW.points} per ${minutes(DEFAULT_OTP_WINDOW.seconds)} min and ${DEFAULT_OTP_DAILY.points} per day`,
      DEFAULT_OTP_DAILY.seconds === 86_400,
    ],
    [
      `${DEFAULT_OTP_VERIFY.points} verification attempts per customer per ${minutes(DEFAULT_OTP_VERIFY.seconds)} min; ${DEFAULT_OTP_VERIFY_IP.points} a minute per IP and ${DEFAULT_OTP_VERIFY_CLIENT.points} per client`,
      DEFAULT_OTP_VERIFY_IP.seconds === 60 && DEFAULT_OTP_VERIFY_CLIENT.seconds === 60,
    ],
    [`(\`READ_CIBIL_MAX\`, ${DEFAULT_READ_CIBIL.points} per ${minutes(DEFAULT_READ_CIBIL.seconds)} minutes)`, true],
    [`(\`READ_CLIENT_MAX\`, ${DEFAULT_READ_CLIENT.points} a minute)`, DEFAULT_READ_CLIENT.seconds === 60],
    [`(\`READ_IP_MAX\`, ${DEFAULT_READ_IP.points} a minute)`, DEFAULT_READ_IP.seconds === 60],
    [`may read the credit report for ${minutes(DEFAULT_CIBIL_CONSENT_TTL_SECONDS)} min`, true],
    [`the times of its last ${Math.max(DEFAULT_OTP_WINDOW.points, DEFAULT_OTP_DAILY.points)} sends`, true],
    [`at most ${limits.maxErrors} errors and one saying`, true],
    [`${MAX_ERROR_LOCATIONS} \`locations\` each`, true],
    [`selected more than ${limits.maxFieldRepeats} times in a set`, true],
    [`; ${limits.maxTokens} tokens;`, true],
    [
      `headers ${DEFAULT_SERVER_HEADERS_TIMEOUT_MS / 1000} s, whole request ${DEFAULT_SERVER_REQUEST_TIMEOUT_MS / 1000} s`,
      true,
    ],
    [`${DEFAULT_MAX_UNAUTHENTICATED_CONNECTIONS_PER_IP} unauthenticated connections per IP`, true],
  ];

  it.each(facts)("says %s", (text, unitAsWritten) => {
    expect({ inReadme: readme.includes(text), unitAsWritten }).toEqual({ inReadme: true, unitAsWritten: true });
  });
});
