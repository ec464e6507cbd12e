// bench/callgrind-compare.js reads callgrind dumps (self instructions by function or library). A misread dump gives
// every row a wrong figure with nothing to show it, so the reader's three rules are held here on small dumps written
// in callgrind's format: a call's cost line is not the caller's own, compressed names are resolved, and a sum that is
// not the dump's `summary:` is an error.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const SCRIPT = path.join(__dirname, "../../../bench/callgrind-compare.js");
const dir = mkdtempSync(path.join(tmpdir(), "callgrind-compare-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A dump with the header callgrind writes and `body`; `summary` is what the header claims. */
function dump(name: string, summary: number, body: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, `# callgrind format\nversion: 1\npositions: line\nevents: Ir\nsummary: ${summary}\n\n${body}\n`);
  return file;
}

const run = (...args: string[]) => execFileSync(process.execPath, [SCRIPT, ...args], { encoding: "utf8" });

// main: 10 of its own, then a call to hash whose inclusive cost (700) is the call's, not main's; hash: 700 of its own;
// two JIT addresses: 200 and 90, one row.
const NAMED = dump(
  "named",
  1000,
  [
    "ob=/node",
    "fn=main",
    "1 6",
    "+1 4",
    "cfn=sha256_block",
    "calls=3 0",
    "2 700",
    "fn=sha256_block",
    "5 700",
    "ob=???",
    "fn=0x0000000028180040",
    "0 200",
    "fn=0x00000000282a2580'2",
    "0 90",
  ].join("\n"),
);

it("counts a function's own lines only, not the cost line under its calls", () => {
  const out = run(NAMED, "--requests", "10");
  expect(out).toMatch(/^\s+70\s+sha256_block$/m);
  expect(out).toMatch(/^\s+1\s+main$/m);
  expect(out).toMatch(/^\s+29\s+JIT code/m);
  expect(out).toMatch(/100 in all/);
});

it("resolves compressed names (defined once with their number, then the number alone)", () => {
  const compressed = dump(
    "compressed",
    1000,
    [
      "ob=(1) /node",
      "fn=(7) main",
      "1 10",
      "cfn=(9) sha256_block",
      "calls=3 0",
      "2 700",
      "fn=(9)",
      "5 300",
      "fn=(7)",
      "3 400",
      "ob=(2) ???",
      "fn=(11) 0x0000000028180040",
      "0 290",
    ].join("\n"),
  );
  const out = run(compressed, "--requests", "10");
  expect(out).toMatch(/^\s+41\s+main$/m);
  expect(out).toMatch(/^\s+30\s+sha256_block$/m);
  expect(run(compressed, "--by", "object", "--requests", "10")).toMatch(/^\s+71\s+\/node$/m);
});

it("sets two dumps side by side, the largest difference first", () => {
  const other = dump("other", 1000, ["ob=/node", "fn=main", "1 900", "fn=sha256_block", "5 100"].join("\n"));
  const lines = run(NAMED, other, "--requests", "10").split("\n");
  const rows = lines.filter((l) => /\s(main|sha256_block)$/.test(l));
  // main: 1 → 90 (+89); sha256_block: 70 → 10 (-60).
  expect(rows[0]).toMatch(/^\s+1\s+90\s+89\s+main$/);
  expect(rows[1]).toMatch(/^\s+70\s+10\s+-60\s+sha256_block$/);
});

it("refuses a dump whose lines do not add up to its own total", () => {
  const wrong = dump("wrong", 999, ["fn=main", "1 10"].join("\n"));
  const r = spawnSync(process.execPath, [SCRIPT, wrong], { encoding: "utf8" });
  expect(r.status).not.toBe(0);
  expect(r.stderr).toMatch(/self costs sum to 10, the dump's summary says 999/);
});
