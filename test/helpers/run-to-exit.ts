import { spawn } from "node:child_process";
import { join } from "node:path";

/** The repository's root, which `entry` is relative to. */
const ROOT = join(__dirname, "../..");

/**
 * `node <entry>` (under ROOT) with exactly `env` and PATH, until its output has closed (`close`: `exit` may come before
 * the last of stdout is read): its exit code, stdout and stderr.
 */
export async function runToExit(
  entry: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(ROOT, entry)], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  return { code, stdout, stderr };
}
