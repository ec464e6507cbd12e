import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

/**
 * eslint.config.mjs restricts, in src/, the globals Node defines as accessors on globalThis (a getter call per read):
 * each is to come from its node: module. These cases lint source texts with the repository's own config, through
 * ESLint's API in a child process (ESLint loads the .mjs config with a dynamic import, and type-aware linting wants the
 * real project), so they fail if the rule leaves the config, loses a global, or stops sparing the clock's modules.
 */
const run = promisify(execFile);
const ROOT = join(__dirname, "../../..");

interface Finding {
  ruleId: string | null;
  line: number;
  message: string;
}

/** The source texts linted, each as if it were the file at `filePath` (files that exist, for the project service). */
const CASES = {
  globals: {
    filePath: "src/config.ts",
    code: [
      "export const reads = [",
      '  Buffer.byteLength("x"),',
      "  performance.now(),",
      "  process.pid,",
      "  crypto.randomUUID(),",
      "  navigator.hardwareConcurrency,",
      '  globalThis.Buffer.from("x"),',
      "];",
      "",
    ].join("\n"),
  },
  imported: {
    filePath: "src/config.ts",
    code: [
      'import { Buffer } from "node:buffer";',
      'import { performance } from "node:perf_hooks";',
      'import process from "node:process";',
      'export const reads = [Buffer.byteLength("x"), performance.now(), process.pid];',
      "",
    ].join("\n"),
  },
  typeOnly: {
    filePath: "src/config.ts",
    code: "export function size(bytes: Buffer): number {\n  return bytes.length;\n}\n",
  },
  clock: {
    filePath: "src/util/clock.ts",
    code: 'export const reads = [performance.now(), Buffer.byteLength("x")];\n',
  },
  breakers: {
    filePath: "src/aopay/circuit-breakers.ts",
    code: 'export const reads = [performance.now(), Buffer.byteLength("x")];\n',
  },
  test: {
    filePath: "test/unit/lint/accessor-globals.test.ts",
    code: 'export const reads = [performance.now(), Buffer.byteLength("x")];\n',
  },
} as const;

type CaseName = keyof typeof CASES;

const LINT = `
const { ESLint } = require("eslint");
(async () => {
  const eslint = new ESLint({ cwd: process.cwd() });
  const cases = JSON.parse(process.argv[1]);
  const findings = {};
  for (const [name, { filePath, code }] of Object.entries(cases)) {
    const [result] = await eslint.lintText(code, { filePath });
    findings[name] = result.messages.map(({ ruleId, line, message }) => ({ ruleId, line, message }));
  }
  const config = await eslint.calculateConfigForFile("src/config.ts");
  process.stdout.write(JSON.stringify({ findings, rule: config.rules["no-restricted-globals"] }));
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
`;

/** Own properties of globalThis with a getter, in a script file (`node -e` adds accessors of its own). */
const PROBE = `
const names = Object.getOwnPropertyNames(globalThis).filter((name) => {
  return Object.getOwnPropertyDescriptor(globalThis, name).get !== undefined;
});
process.stdout.write(JSON.stringify(names));
`;

let findings: Record<CaseName, Finding[]>;
let restricted: string[];

beforeAll(async () => {
  const { stdout } = await run(process.execPath, ["-e", LINT, JSON.stringify(CASES)], {
    cwd: ROOT,
    maxBuffer: 16 << 20,
  });
  const answer = JSON.parse(stdout) as {
    findings: typeof findings;
    rule: [unknown, { globals: { name: string }[] }] | undefined;
  };
  findings = answer.findings;
  restricted = (answer.rule?.[1].globals ?? []).map(({ name }) => name);
}, 120_000);

function restrictedReads(name: CaseName): { line: number; message: string }[] {
  return findings[name]
    .filter(({ ruleId }) => ruleId === "no-restricted-globals")
    .map(({ line, message }) => ({ line, message }));
}

describe("no-restricted-globals: the accessor globals come from their node: modules in src/", () => {
  it("reports each read of an accessor global in src/, globalThis.Buffer too, and names the module to import", () => {
    const reads = restrictedReads("globals");
    expect(reads.map(({ line }) => line)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(reads[0]?.message).toContain('import { Buffer } from "node:buffer";');
    expect(reads[1]?.message).toContain('import { performance } from "node:perf_hooks";');
    expect(reads[2]?.message).toContain('import process from "node:process";');
    expect(reads[5]?.message).toMatch(/'Buffer'/);
    for (const { message } of reads) expect(message).toContain("getter on globalThis");
  });

  it("passes the modules' imports and a type-only use of Buffer (no read at run time)", () => {
    expect(findings.imported).toEqual([]);
    expect(findings.typeOnly).toEqual([]);
  });

  it("spares `performance` in the clock's modules (jest's fake timers replace the global's), not Buffer", () => {
    for (const name of ["clock", "breakers"] as const) {
      expect(restrictedReads(name).map(({ message }) => message.match(/'(\w+)'/)?.[1])).toEqual(["Buffer"]);
    }
  });

  it("leaves the tests alone: they read what jest's environment puts on the global", () => {
    expect(restrictedReads("test")).toEqual([]);
  });

  it("restricts every global that this Node defines as an accessor", async () => {
    const dir = mkdtempSync(join(tmpdir(), "accessor-globals-"));
    try {
      const probe = join(dir, "probe.js");
      writeFileSync(probe, PROBE);
      const { stdout } = await run(process.execPath, [probe]);
      const accessors = JSON.parse(stdout) as string[];
      // The probe works: it finds the two accessors src/ reads most.
      expect(accessors).toEqual(expect.arrayContaining(["Buffer", "process"]));
      expect(accessors.filter((name) => !restricted.includes(name))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
