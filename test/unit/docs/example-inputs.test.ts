import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { SANDBOX_SECTION, walkthroughSection } from "../../helpers/walkthrough-page";

const ROOT = join(__dirname, "../../..");
const read = (file: string) => readFileSync(join(ROOT, file), "utf8");

/**
 * The pages a newcomer runs one after another on one `npm start`, each with the customers and AEPS registrations it
 * sends to. The walkthrough's curl commands and docs/requests.http are one: the same requests for another tool.
 */
function runnablePages(): Record<string, string> {
  const web = join(ROOT, "examples/web/src");
  return {
    "docs/walkthrough.md (Apollo Sandbox)": walkthroughSection(SANDBOX_SECTION),
    "docs/walkthrough.md (curl) and docs/requests.http":
      walkthroughSection("## With curl") + read("docs/requests.http"),
    "docs/api.md": read("docs/api.md"),
    "docs/clients.md": read("docs/clients.md"),
    "client/README.md": read("client/README.md"),
    "examples/web (the forms' first values)": readdirSync(web)
      .filter((f) => f.endsWith(".tsx"))
      .map((f) => readFileSync(join(web, f), "utf8"))
      .join("\n"),
  };
}

/**
 * What an OTP send counts on (docs/security.md "Which destinations a send counts on"), as the throttle canonicalises
 * it: the mobile (a CIBIL registration's too: its sends count on it), the Aadhaar number's digits, the AEPS user key
 * and references in any case, the CIBIL id and access token. Written `key: "value"` (GraphQL, TypeScript), `"key":
 * "value"` (JSON) or `key="value"` (JSX); a placeholder (`<cibilId>`, `...`) or a masked value is none. CIBIL ids
 * from 700000001 are the ones the simulator issues, in the order of registrations (the walkthrough's sections each
 * register their own customer): not a page's choice.
 */
const DESTINATION =
  /(?<![\w.])"?(mobile|aadhaar|userKey|primaryKeyId|encodeTxnId|cibilId|accessToken)"?\s*[:=]\s*"([A-Za-z0-9][\w .=+/~-]*)"/g;

function destinations(text: string): Set<string> {
  const found = new Set<string>();
  for (const [, key, value] of text.matchAll(DESTINATION)) {
    if (key === "cibilId" && /^7000000\d\d$/.test(value)) continue;
    const canonical =
      key === "aadhaar"
        ? value.replace(/\s/g, "")
        : ["userKey", "primaryKeyId", "encodeTxnId"].includes(key)
          ? value.toUpperCase()
          : value;
    found.add(`${key} ${canonical}`);
  }
  return found;
}

describe("the runnable pages send to destinations of their own", () => {
  const pages = Object.entries(runnablePages()).map(([page, text]) => ({ page, sends: destinations(text) }));

  it("finds each page's inputs", () => {
    for (const { page, sends } of pages) expect({ page, found: sends.size > 0 }).toEqual({ page, found: true });
  });

  // docs/api.md's and docs/clients.md's examples sent to the walkthrough's Aadhaar, mobile and AEPS references: run
  // within a minute of the walkthrough, as a newcomer reads them, they answered OtpThrottled OTP_COOLDOWN with nothing
  // saying why. A page that must share one says so where it happens, and is listed here with the reason.
  it("no two share a mobile, an Aadhaar number, an AEPS user key or reference, a CIBIL id or token", () => {
    const shared: string[] = [];
    for (const [i, a] of pages.entries())
      for (const b of pages.slice(i + 1))
        for (const send of a.sends) if (b.sends.has(send)) shared.push(`${a.page} and ${b.page}: ${send}`);
    expect(shared).toEqual([]);
  });
});

/**
 * The pages a newcomer follows from the README on. A command substitution in them (`$(...)`, e.g. a fresh
 * Idempotency-Key) runs on the reader's machine, which the README's Quick start has them give Node and npm, no more.
 */
const NEWCOMER_PAGES = ["README.md", "docs/walkthrough.md", "docs/requests.http", "docs/api.md", "docs/clients.md"];
/** `$(command)`, the command holding one level of parentheses at most (`node -p 'crypto.randomUUID()'`). */
const SUBSTITUTION = /\$\(((?:[^()]|\([^()]*\))+)\)/g;

describe("the command substitutions a newcomer's pages give", () => {
  const found = NEWCOMER_PAGES.flatMap((page) =>
    [...read(page).matchAll(SUBSTITUTION)].map((m) => ({ page, cmd: m[1] })),
  );

  it("are found (not vacuous)", () => {
    expect(found.map((f) => f.page)).toContain("docs/walkthrough.md");
  });

  // The walkthrough's `-H "Idempotency-Key: $(uuidgen)"`: where uuidgen is missing (Debian's minimal images), the
  // shell substitutes nothing, and curl sends no key, with no word of it.
  it("run only Node or npm, and each prints a value", () => {
    for (const { page, cmd } of found) {
      const tool = cmd.trim().split(/\s+/)[0];
      const printed = ["node", "npm", "npx"].includes(tool)
        ? execFileSync("sh", ["-c", cmd], { cwd: ROOT, encoding: "utf8" }).trim()
        : `not run: ${tool} is not Node or npm`;
      expect({ page, cmd, printed }).toEqual({ page, cmd, printed: expect.stringMatching(/^\S+$/) });
    }
  });
});
