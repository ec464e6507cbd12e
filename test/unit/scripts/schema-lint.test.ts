import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const ROOT = join(__dirname, "../../..");
const SCHEMA = readFileSync(join(ROOT, "schema/schema.graphql"), "utf8");

/** `npm run schema:lint -- <file>` on a variant of the committed schema: exit code, stdout and stderr together. */
async function lint(variant: string): Promise<{ code: number; out: string }> {
  const dir = mkdtempSync(join(tmpdir(), "schema-lint-"));
  try {
    writeFileSync(join(dir, "schema.graphql"), variant);
    return await run("npm", ["run", "-s", "schema:lint", "--", join(dir, "schema.graphql")], { cwd: ROOT }).then(
      ({ stdout, stderr }) => ({ code: 0, out: stdout + stderr }),
      (error: { code: number; stdout: string; stderr: string }) => ({
        code: error.code,
        out: error.stdout + error.stderr,
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The linter names lines of schema/schema.graphql, which is printed from the type-graphql classes: fixed there, the
 * next schema:emit undoes it. Its failure must say where the fix goes (found: a field added without a description
 * was reported as "schema.graphql 8:3 ... is missing a description" and nothing more).
 */
describe("npm run schema:lint", () => {
  it("passes the committed schema", async () => {
    const { code, out } = await lint(SCHEMA);
    expect(out).toContain("0 errors detected");
    expect(code).toBe(0);
  });

  it("on a field without a description, names it and says to describe it in the class, then schema:emit", async () => {
    const variant = SCHEMA.replace(
      /^ {2}"""The mobile number as `XXXXXX1234`\."""\n( {2}maskedMobile: String!\n)/m,
      "$1",
    );
    expect(variant).not.toBe(SCHEMA);
    const { code, out } = await lint(variant);
    expect(out).toMatch(/The field `AepsOtpResent\.maskedMobile` is missing a description/);
    expect(out).toContain("fix the decorator there");
    expect(out).toContain("npm run schema:emit");
    expect(code).toBe(1);
  });
});
