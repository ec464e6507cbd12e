import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const ROOT = join(__dirname, "../../..");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { layerOf } = require("../../../scripts/import-layers.js") as {
  layerOf(file: string): { rank: number; name: string } | null;
};

/** `npm run layers` (scripts/import-layers.js) on a scratch src/ tree: its exit code and output. */
async function layers(files: Record<string, string>): Promise<{ code: number; out: string }> {
  const src = mkdtempSync(join(tmpdir(), "import-layers-"));
  try {
    for (const [rel, text] of Object.entries(files)) {
      mkdirSync(dirname(join(src, rel)), { recursive: true });
      writeFileSync(join(src, rel), text);
    }
    return await run(process.execPath, [join(ROOT, "scripts/import-layers.js"), "--src", src], { cwd: ROOT }).then(
      ({ stdout }) => ({ code: 0, out: stdout }),
      (error: { code: number; stdout: string }) => ({ code: error.code, out: error.stdout }),
    );
  } finally {
    rmSync(src, { recursive: true, force: true });
  }
}

describe("npm run layers says what to do about what it finds", () => {
  it("passes a tree whose imports run downward", async () => {
    const { code, out } = await layers({
      "graphql/schema.ts": 'import { mask } from "../pii/mask";\nexport const s = mask;\n',
      "pii/mask.ts": "export const mask = 1;\n",
    });
    expect(out).toContain("2 files, 0 circles, 0 upward imports, 0 files in no layer");
    expect(code).toBe(0);
  });

  it("a file in no layer: where to declare it (the script and docs/architecture.md)", async () => {
    const { code, out } = await layers({
      "webhooks/handler.ts": "export const h = 1;\n",
      "pii/mask.ts": "export const mask = 1;\n",
    });
    expect(out).toContain("no layer: webhooks/handler.ts");
    expect(out.replace(/\s+/g, " ")).toContain(
      "add its folder or name to LAYERS in scripts/import-layers.js and to the table of docs/architecture.md#layers",
    );
    expect(out).toContain("1 files in no layer");
    expect(code).toBe(1);
  });

  it("an upward import: which way to move the code", async () => {
    const { code, out } = await layers({
      "graphql/schema.ts": "export const s = 1;\n",
      "pii/mask.ts": 'import { s } from "../graphql/schema";\nexport const mask = s;\n',
    });
    expect(out).toContain("upward: pii/mask.ts (foundations) -> graphql/schema.ts (graphql)");
    expect(out).toMatch(/move the shared code down to the lower\s+layer/);
    expect(code).toBe(1);
  });

  // A type read from above ties the files as a value does (the settings types once lived in config.ts, which reads
  // the *.settings.ts files): each way of naming a type alone is one upward import, and the check fails on it.
  it("an upward import of types alone, in each of its spellings", async () => {
    const { code, out } = await layers({
      "config.ts": 'import { a } from "./http/a.settings";\nexport type Mode = "off";\nexport const c = a;\n',
      "http/a.settings.ts": 'import type { Mode } from "../config";\nexport const a = 1;\nexport type A = Mode;\n',
      "http/b.settings.ts": 'import { type Mode } from "../config";\nexport const b = 1;\nexport type B = Mode;\n',
      "http/c.settings.ts": 'export type { Mode } from "../config";\nexport const c = 1;\n',
      "http/d.settings.ts": 'export type D = import("../config").Mode;\nexport const d = 1;\n',
    });
    for (const file of ["a", "b", "c", "d"])
      expect(out).toContain(`upward: http/${file}.settings.ts (foundations) -> config.ts (config)`);
    expect(out).toContain("4 upward imports");
    expect(code).toBe(1);
  });

  // A module that took a settings type through config.ts's re-exports depended on config.ts, and through it on every
  // settings group: the type is read from its *.settings.ts; what config.ts declares itself (Config) comes from it.
  it("a settings name read through config.ts's re-exports: where to import it from", async () => {
    const { code, out } = await layers({
      "config.ts": 'export * from "./http/a.settings";\nexport interface Config { a: number }\n',
      "http/a.settings.ts": "export interface ALimits { n: number }\nexport const a = 1;\n",
      "http/b.ts": 'import { a, type ALimits } from "../config";\nexport const b: ALimits = { n: a };\n',
      "http/c.ts": 'import type { Config } from "../config";\nexport const c = (config: Config) => config.a;\n',
      "http/d.ts": 'import type { ALimits } from "./a.settings";\nexport const d = (l: ALimits) => l.n;\n',
    });
    expect(out).toContain("through config.ts: http/b.ts: a\n");
    expect(out).toContain("through config.ts: http/b.ts: ALimits\n");
    expect(out).not.toContain("http/c.ts");
    expect(out).not.toContain("http/d.ts");
    expect(out.replace(/\s+/g, " ")).toContain("import it from that file, beside the module it configures");
    expect(out).toContain("0 upward imports, 0 files in no layer, 2 settings names through config.ts");
    expect(code).toBe(1);
  });

  it("an import circle: how to break it", async () => {
    const { code, out } = await layers({
      "pii/a.ts": 'import { b } from "./b";\nexport const a = () => b;\n',
      "pii/b.ts": 'import { a } from "./a";\nexport const b = () => a;\n',
    });
    expect(out).toMatch(/circle: pii\/a\.ts -> pii\/b\.ts|circle: pii\/b\.ts -> pii\/a\.ts/);
    expect(out).toContain("move what both files need into a third file below them");
    expect(code).toBe(1);
  });
});

/** docs/architecture.md's "Layers" table: each row's layer and the src/ paths its second cell names. */
function layerTable(): Array<{ layer: string; paths: string[] }> {
  const page = readFileSync(join(ROOT, "docs/architecture.md"), "utf8");
  const lines = page.split("\n");
  const start = lines.findIndex((l) => /^\|\s*layer\s*\|/.test(l));
  expect(start).toBeGreaterThan(0);
  const rows: Array<{ layer: string; paths: string[] }> = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith("|")) break;
    const cells = line.split("|").map((c) => c.trim());
    rows.push({ layer: cells[1], paths: [...cells[2].matchAll(/`([^`]+)`/g)].map((m) => m[1]) });
  }
  return rows;
}

/** The row a file of src/ belongs to by the table: a file named outright, then a suffix (`*.settings.ts`), then a folder. */
function tableLayer(rows: ReturnType<typeof layerTable>, file: string): string | undefined {
  const by = (match: (path: string) => boolean) => rows.find((r) => r.paths.some(match))?.layer;
  return (
    by((p) => p === file) ??
    by((p) => p.startsWith("*") && file.endsWith(p.slice(1))) ??
    by((p) => p.endsWith("/") && file.startsWith(p))
  );
}

function srcFiles(dir = join(ROOT, "src"), prefix = ""): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? srcFiles(join(dir, e.name), `${prefix}${e.name}/`)
      : e.name.endsWith(".ts")
        ? [`${prefix}${e.name}`]
        : [],
  );
}

describe("docs/architecture.md's Layers table and the layer check agree", () => {
  it("put every file of src/ in the same layer", () => {
    const rows = layerTable();
    expect(rows.map((r) => r.layer)).toContain("aopay transport");
    const files = srcFiles();
    expect(files.length).toBeGreaterThan(100);
    const disagreements = files
      .map((file) => ({ file, table: tableLayer(rows, file) ?? "(no row)", check: layerOf(file)?.name ?? "(none)" }))
      .filter((d) => d.table !== d.check);
    expect(disagreements).toEqual([]);
  });
});
