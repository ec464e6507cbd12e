import { execFileSync, spawn } from "node:child_process";
import { join } from "node:path";
import { Authenticator, hashApiKey } from "../../../src/auth/authenticator";
import { loadConfig } from "../../../src/config";

const SCRIPT = join(__dirname, "../../../scripts/api-key.js");

describe("npm run api-key", () => {
  it("prints a random key and an API_KEYS entry holding only its SHA-256, which the server accepts", async () => {
    const out = execFileSync(process.execPath, [SCRIPT, "mobile-app"], { encoding: "utf8" });
    const key = /^\s+(aopk_[A-Za-z0-9_-]{43})$/m.exec(out)?.[1];
    const entry = /^\s+(mobile-app:[0-9a-f]{64})$/m.exec(out)?.[1];
    expect(key).toBeDefined();
    expect(entry).toBe(`mobile-app:${hashApiKey(key as string)}`);
    expect(entry).not.toContain(key);
    // How the client sends it: said where the operator gets it (a key sent as a bearer token is refused).
    expect(out).toContain("sends it in the x-api-key header, not as a bearer token");
    const config = loadConfig({ API_KEYS: entry as string });
    const auth = new Authenticator(config.auth);
    expect(await auth.authenticate({ "x-api-key": key })).toEqual({
      ok: true,
      client: { id: "mobile-app", shown: "mobile-app", via: "api-key" },
    });
    // Two runs never give the same key.
    const again = execFileSync(process.execPath, [SCRIPT, "mobile-app"], { encoding: "utf8" });
    expect(again).not.toContain(key as string);
  });

  // Before: an unhandled EPIPE, Node's stack trace on stderr.
  it("a reader that closes the pipe at once: one plain line, exit 1, no stack trace", async () => {
    const child = spawn(process.execPath, [SCRIPT, "mobile-app"]);
    child.stdout.destroy();
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const status = await new Promise((resolve) => child.on("close", resolve));
    expect([status, stderr]).toEqual([1, "api-key: output cut short (EPIPE): this key is not to be used, run again\n"]);
  });

  it("refuses a bad client id", () => {
    expect(() => execFileSync(process.execPath, [SCRIPT, "bad id"], { stdio: "pipe" })).toThrow();
  });
});
