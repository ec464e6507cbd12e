import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as sdkErrors from "../../../client/src/sdk/errors";

const ROOT = join(__dirname, "../../..");
const page = readFileSync(join(ROOT, "docs/clients.md"), "utf8");
const source = readFileSync(join(ROOT, "client/src/sdk/client.ts"), "utf8");

/** The members of `export interface <name>` in client/src/sdk/client.ts, as a client's code spells them. */
function members(name: string): string[] {
  const start = source.search(new RegExp(`export interface ${name}(?:<[^>]*>)? \\{`));
  expect(start).toBeGreaterThanOrEqual(0);
  const body = source.slice(start, source.indexOf("\n}\n", start));
  const found = [...body.matchAll(/^ {2}(?:readonly )?(\w+)\??:/gm)].map((m) => m[1]).sort();
  // Not vacuous: 5 to 7 members each today.
  expect(found.length).toBeGreaterThanOrEqual(5);
  return found;
}

/** The first cell of each row of the table whose header row starts with `| <first> |`. */
function firstCells(first: string): string[] {
  const lines = page.split("\n");
  const start = lines.findIndex((l) => l.startsWith(`| ${first} |`));
  expect(start).toBeGreaterThanOrEqual(0);
  const rows: string[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith("|")) break;
    rows.push(line.split("|").slice(1, -1).join("|"));
  }
  return rows;
}

const spans = (text: string) => [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
const flat = page.replace(/\s+/g, " ");

/**
 * docs/clients.md's SDK section, against the SDK's code: the options of `createSdk`, a call's options, what a call
 * resolves with, and the errors it rejects with. The page is what an app's author codes against; the type checks
 * (client/typecheck) hold the code to itself, and nothing held the page to either: an option added or renamed, or a
 * class's code changed, left the page describing another SDK.
 */
describe("docs/clients.md's SDK tables are the SDK's", () => {
  it("`createSdk({ ... })` options: every member of GraphQLClientOptions, and no other", () => {
    const named = firstCells("`createSdk({ ... })` option").flatMap((row) => spans(row.split("|")[0]));
    expect(named.sort()).toEqual(members("GraphQLClientOptions"));
  });

  it('a call\'s options ("Per call: ...") name every member of CallOptions', () => {
    const sentence = /Per call: (.*?)\. Unknown options/.exec(flat)?.[1];
    expect(sentence).toBeDefined();
    // The sentence's own spans also name a header and a log field (`x-request-id`, `callerRequestId`).
    const named = new Set(spans(sentence!));
    expect(members("CallOptions").filter((m) => !named.has(m))).toEqual([]);
  });

  it("what a call resolves with (`{ data, errors, ... }`) is SdkResult, member for member", () => {
    const shape = /It resolves with the GraphQL response, whatever the HTTP status: `\{ ([^`]*) \}`/.exec(flat)?.[1];
    expect(shape).toBeDefined();
    expect(shape!.split(/,\s*/).sort()).toEqual(members("SdkResult"));
  });

  it("the errors table pairs each code with its class, every class the SDK exports", () => {
    const documented = firstCells("`code`").map((row) => {
      const [code, cls] = row.split("|").map((c) => spans(c)[0]);
      return `${code} ${cls}`;
    });
    const exported = Object.entries(sdkErrors)
      .filter(([, value]) => typeof value === "function" && "errorCode" in value)
      .map(([name, value]) => `${(value as { errorCode: string }).errorCode} ${name}`);
    // Not vacuous: six codes today.
    expect(exported.length).toBeGreaterThanOrEqual(6);
    expect(documented.sort()).toEqual(exported.sort());
  });
});
