import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(__dirname, "../../..");

/** Every `node_modules/debug` under `dir`, at any depth (a package's own node_modules nests another). */
function debugCopies(dir: string, found: string[] = []): string[] {
  const modules = join(dir, "node_modules");
  if (!existsSync(modules)) return found;
  for (const entry of readdirSync(modules, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const names = entry.name.startsWith("@")
      ? readdirSync(join(modules, entry.name)).map((name) => join(entry.name, name))
      : [entry.name];
    for (const name of names) {
      if (name === "debug") found.push(join(modules, name));
      debugCopies(join(modules, name), found);
    }
  }
  return found;
}

/**
 * src/early-faults.ts routes the `debug` module's lines (DEBUG=ioredis:*) through the scrubbing logger by replacing
 * `log` on ioredis' copy. A second copy (a dependency pinning another major) would keep its own `log`, and print
 * raw to stderr again: this fails first, naming it.
 */
it("node_modules holds one copy of the debug module, the one early-faults.ts routes", () => {
  expect(debugCopies(ROOT).map((path) => path.slice(ROOT.length + 1))).toEqual(["node_modules/debug"]);
});
