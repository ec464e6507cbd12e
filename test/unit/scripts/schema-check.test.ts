import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const ROOT = join(__dirname, "../../..");
const SCHEMA = readFileSync(join(ROOT, "schema/schema.graphql"), "utf8");

/** `npm run schema:check` (scripts/schema-check.js) on a variant of the committed schema: its exit code and output. */
async function check(variant: string): Promise<{ code: number; out: string }> {
  const dir = mkdtempSync(join(tmpdir(), "schema-check-"));
  try {
    writeFileSync(join(dir, "schema.graphql"), variant);
    return await run(
      process.execPath,
      [join(ROOT, "scripts/schema-check.js"), "--schema", join(dir, "schema.graphql")],
      { cwd: ROOT },
    ).then(
      ({ stdout }) => ({ code: 0, out: stdout }),
      (error: { code: number; stdout: string }) => ({ code: error.code, out: error.stdout }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The breaking-change check against the last release's schema (schema/releases/), as docs/contributing.md describes it. */
describe("npm run schema:check", () => {
  it("passes on the committed schema (descriptions and additions are not breaking)", async () => {
    const { code, out } = await check(SCHEMA);
    expect(out).toContain("against schema/releases/v0.1.0.graphql");
    expect(out).toMatch(/No breaking change/);
    expect(code).toBe(0);
  });

  it("fails, naming the change, when a field a client may select is removed", async () => {
    const variant = SCHEMA.replace(/^ {2}"""The mobile number as `XXXXXX1234`\."""\n {2}maskedMobile: String!\n/m, "");
    expect(variant).not.toBe(SCHEMA);
    const { code, out } = await check(variant);
    expect(out).toMatch(/BREAKING \(1\):\n {2}- Field 'maskedMobile' .*removed from object type 'AepsOtpResent'/);
    expect(code).toBe(1);
  });

  it("fails when an input field becomes required", async () => {
    const variant = SCHEMA.replace(/middleName: String\n/, "middleName: String!\n");
    expect(variant).not.toBe(SCHEMA);
    const { code, out } = await check(variant);
    expect(out).toMatch(/BREAKING[\s\S]*middleName/);
    expect(code).toBe(1);
  });
});
