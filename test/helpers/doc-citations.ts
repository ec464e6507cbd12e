import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";

/**
 * Checks that what the repository cites resolves inside the repository (test/unit/docs/citations.test.ts):
 * - every `*.md` path named in code, config or docs exists (relative to the citing file, or to the repository root);
 * - every cited id exists in the cited document: `docs/security-requirements.md A11` (its bold `A11.` items and its
 *   `## A.` sections), `docs/upstream/aopay-api.md §1.4` / `Observation 15` / `§7 question 7`,
 *   `docs/design/stack.md pitfall 11`, `docs/design/style.md principle 7`;
 * - every section cited by its heading, `docs/performance.md "Workers"` or `docs/performance.md, "Workers" and
 *   "Overload"`, is a heading of that document;
 * - no heading names its place relative to now ("This round", "The round before", "Two rounds before"): the next
 *   round moves every such label, and what cites it then points at another section without failing any check
 *   (found: comments citing "This round" for figures three rounds old);
 * - no text names a run or a table by its place in a document that each round rearranges ("the run at the top"):
 *   found six such phrases in docs/performance.md meaning four different runs, each written when its run was on top;
 * - nothing points at `../shared/...` (a folder outside the repository) or at an "issue N" (issues are not in it);
 * - every relative Markdown link in the documentation resolves, `#anchor` included (GitHub's heading slugs).
 */
export interface Problem {
  file: string;
  problem: string;
}

/** Folders never scanned: dependencies, build output, run artifacts, and verbatim copies of third-party pages. */
const SKIP_DIRS = new Set(["node_modules", ".git", "dist", "dist-test", "coverage", "test-artifacts"]);
const SKIP_PATHS = new Set(["bench/results", "docs/upstream/seeds", "examples/web/dist", "client/dist"]);
const SCANNED = /\.(ts|tsx|js|mjs|cjs|md|ya?ml|json|graphql|http|sh)$|^Dockerfile$|^run$/;
const SKIP_FILES = new Set(["package-lock.json"]);
/**
 * The background notes brought in as written: they name files of the projects they studied (undici's
 * `docs/docs/api/Client.md`, a CHANGELOG.md), which are not ours. Their citations of our documents and their
 * relative links are still checked; only the bare `*.md` paths in them are not.
 */
const FOREIGN_PATHS = /^docs\/(security-requirements\.md|design\/|upstream\/)/;
/** The checker and its test quote the broken forms on purpose. */
const SELF = new Set(["test/helpers/doc-citations.ts", "test/unit/docs/citations.test.ts"]);

/** The Markdown files whose relative links must resolve. */
export function markdownFiles(root: string): string[] {
  const fixed = ["README.md", "client/README.md", "bench/README.md", "examples/web/README.md"];
  return [...fixed.filter((f) => existsSync(join(root, f))), ...walk(root, "docs").filter((f) => f.endsWith(".md"))];
}

/** Every file whose citations are checked. */
export function scannedFiles(root: string): string[] {
  return walk(root, "").filter((f) => SCANNED.test(f.split("/").pop()!) && !SKIP_FILES.has(f.split("/").pop()!));
}

function walk(root: string, dir: string): string[] {
  const abs = join(root, dir);
  if (!existsSync(abs)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(abs, { withFileTypes: true })) {
    const rel = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      if (SKIP_DIRS.has(entry.name) || SKIP_PATHS.has(rel)) continue;
      out.push(...walk(root, rel));
    } else if (entry.isFile()) {
      out.push(rel);
    }
  }
  return out.sort();
}

/** Each heading's text outside code, its links reduced to their text and HTML tags dropped, in order. */
function headings(markdown: string): string[] {
  const out: string[] = [];
  for (const line of withoutCode(markdown).split("\n")) {
    const m = /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (m) out.push(m[1].replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1").replace(/<[^>]+>/g, ""));
  }
  return out;
}

/** GitHub's heading anchors (github-slugger): lower case, punctuation dropped, each space a hyphen, repeats numbered. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const text of headings(markdown)) {
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M}\p{Pc} -]/gu, "")
      .replace(/ /g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  for (const a of withoutCode(markdown).matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(a[1]);
  return anchors;
}

/** The text of every heading outside code, without Markdown marks (links and HTML as above; code spans, emphasis). */
export function headingTexts(markdown: string): string[] {
  return headings(markdown).map((text) => text.replace(/[`*_]/g, "").trim());
}

/**
 * Whether a cited name names a heading: the whole heading, or the part before its colon or parenthesis ("Overload" for
 * "Overload: admission control", "Round a9cbb41" for "Round a9cbb41: refused reads per turn"). Case is ignored.
 */
function namesHeading(cited: string, heading: string): boolean {
  const c = cited.toLowerCase();
  const h = heading.toLowerCase();
  return h === c || h.startsWith(`${c}:`) || h.startsWith(`${c} (`);
}

/** A run, table or figure named by its place in a document whose top the next round takes: "the run at the top". */
export const RELATIVE_PLACE = /\b(?:runs?|tables?|figures?)\b[^.|]{0,24}?\bat\s+the\s+top\b/i;

/** A heading that names its place relative to the time of writing: it moves when the next section is added. */
export const RELATIVE_HEADING = /^(?:this|the latest|the last|the previous) round\b|\brounds? before\b/i;

/** The text with fenced code blocks blanked (lengths and lines kept, so that positions stay right). */
function withoutCode(markdown: string): string {
  // Indented too: a fence inside a list item (docs/clients.md's steps, docs/operations.md's runbook) is one.
  return markdown.replace(/^[ \t]*(```+|~~~+)[^\n]*\n[\s\S]*?^[ \t]*\1[^\n]*$/gm, (block) =>
    block.replace(/[^\n]/g, " "),
  );
}

/**
 * The inline code spans of a Markdown page outside fenced blocks, as CommonMark reads them
 * (https://spec.commonmark.org/0.31.2/#code-spans): a run of n backticks opens a span that the next run of exactly n
 * backticks closes, on the same line or a later one of the same block (prose is wrapped by hand at 120 columns, so a
 * span often is); a line break inside is a space, and one space is stripped from each side when both are there; a run
 * with no closer is text; a backslash escapes a backtick outside a span. A block ends at a blank line, and a table
 * row, a heading or a list item's first line starts one. Paired per line, as this was read before, `npm run x` broken
 * over two lines was never checked, and a span with a backtick inside (``a `b` c``) was read as two others.
 * `index` and `end` are offsets into the page (the opening and past the closing backticks). Hand-written because
 * markdown-it (CommonMark) gives inline tokens no offsets, and the checks report lines; on every page the checks
 * read, it found the same spans as markdown-it 15 (README.md, docs/*.md, client/README.md, examples/web/README.md).
 */
export function inlineCodeSpans(markdown: string): Array<{ text: string; index: number; end: number }> {
  const text = withoutCode(markdown);
  const spans: Array<{ text: string; index: number; end: number }> = [];
  const runAt = (i: number) => {
    let j = i;
    while (text[j] === "`") j++;
    return j - i;
  };
  for (const [start, stop] of blocks(text)) {
    let i = start;
    while (i < stop) {
      if (text[i] === "\\" && i + 1 < stop && /[!-/:-@[-`{-~]/.test(text[i + 1])) {
        i += 2;
        continue;
      }
      if (text[i] !== "`") {
        i++;
        continue;
      }
      const n = runAt(i);
      let close = -1;
      for (let j = i + n; j < stop;) {
        if (text[j] !== "`") {
          j++;
          continue;
        }
        const m = runAt(j);
        if (m === n) {
          close = j;
          break;
        }
        j += m;
      }
      if (close < 0) {
        i += n;
        continue;
      }
      let content = text.slice(i + n, close).replace(/\r?\n[ \t]*/g, " ");
      if (content.length > 1 && content.startsWith(" ") && content.endsWith(" ") && content.trim() !== "")
        content = content.slice(1, -1);
      spans.push({ text: content, index: i, end: close + n });
      i = close + n;
    }
  }
  return spans;
}

/** The blocks a page's inline content is read in, as [start, end) offsets (inlineCodeSpans says where one ends). */
function blocks(text: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let start = -1;
  let offset = 0;
  for (const line of text.split("\n")) {
    const end = offset + line.length;
    const blank = line.trim() === "";
    const opens = /^\s*(?:\||#{1,6}(?:\s|$)|[-*+]\s|\d{1,9}[.)]\s)/.test(line);
    if (start >= 0 && (blank || opens)) {
      out.push([start, offset - 1]);
      start = -1;
    }
    if (!blank && start < 0) start = offset;
    // A table row or a heading is a block of one line.
    if (start >= 0 && /^\s*(?:\||#{1,6}(?:\s|$))/.test(line)) {
      out.push([start, end]);
      start = -1;
    }
    offset = end + 1;
  }
  if (start >= 0) out.push([start, text.length]);
  return out;
}

/** `text` with its inline code spans blanked out (line breaks and lengths kept, so that positions stay right). */
function blankCodeSpans(text: string): string {
  const chars = text.split("");
  for (const span of inlineCodeSpans(text))
    for (let i = span.index; i < span.end; i++) if (chars[i] !== "\n") chars[i] = " ";
  return chars.join("");
}

/** The ids a cited document contains, by the words used to cite them. */
interface CitedDocument {
  path: string;
  /** Parses what follows the citation into the ids it names; [] when it names none. */
  idsAfter(text: string): string[];
  ids(markdown: string): Set<string>;
}

/** `A11`, `B1-B4`, `A2/A3`, `D2, D3`, `B and E4`: requirement ids and section letters. */
function securityIdsAfter(text: string): string[] {
  const id = String.raw`[A-E]\d*(?:\s*[-–]\s*[A-E]?\d+)?`;
  const m = new RegExp(String.raw`^\)?\]?\s+(${id}(?:\s*(?:,|/|and)\s*${id})*)\b`).exec(text);
  if (!m) return [];
  const ids: string[] = [];
  for (const part of m[1].split(/\s*(?:,|\/|and)\s*/)) {
    const range = /^([A-E])(\d+)\s*[-–]\s*([A-E])?(\d+)$/.exec(part);
    if (range) {
      if (range[3] && range[3] !== range[1])
        ids.push(part); // a range across sections is not an id: reported
      else for (let n = Number(range[2]); n <= Number(range[4]); n++) ids.push(`${range[1]}${n}`);
    } else {
      ids.push(part);
    }
  }
  return ids;
}

/** Numbered items (`1. **...`) in the section whose heading matches `heading`, up to the next heading of its level. */
function numberedItems(markdown: string, heading: RegExp): Set<string> {
  const lines = markdown.split("\n");
  const start = lines.findIndex((l) => heading.test(l));
  const items = new Set<string>();
  if (start === -1) return items;
  const level = /^#+/.exec(lines[start])![0].length;
  for (const line of lines.slice(start + 1)) {
    const h = /^(#+)\s/.exec(line);
    if (h && h[1].length <= level) break;
    const item = /^(\d+)\.\s/.exec(line);
    if (item) items.add(item[1]);
  }
  return items;
}

function numbersAfter(word: string) {
  return (text: string): string[] => {
    const m = new RegExp(String.raw`^\)?\]?\s+${word}s?\s+(\d+(?:\s*[-–,]\s*\d+)*)`).exec(text);
    if (!m) return [];
    return m[1].split(/\s*,\s*/).flatMap((part) => {
      const [a, b] = part.split(/\s*[-–]\s*/).map(Number);
      return b === undefined ? [`${word} ${a}`] : Array.from({ length: b - a + 1 }, (_, i) => `${word} ${a + i}`);
    });
  };
}

export const CITED_DOCUMENTS: CitedDocument[] = [
  {
    path: "docs/security-requirements.md",
    idsAfter: securityIdsAfter,
    ids: (md) => {
      const ids = new Set<string>();
      for (const m of md.matchAll(/^\*\*([A-E]\d+)\./gm)) ids.add(m[1]);
      for (const m of md.matchAll(/^## ([A-E])\. /gm)) ids.add(m[1]);
      return ids;
    },
  },
  {
    path: "docs/upstream/aopay-api.md",
    idsAfter: (text) => {
      const ids: string[] = [];
      const sections = /^\)?\]?\s+(§\d+(?:\.\d+)?(?:\s+question\s+\d+)?(?:\s*,\s*§\d+(?:\.\d+)?)*)/.exec(text);
      if (sections) {
        for (const s of sections[1].split(/\s*,\s*/)) {
          const q = /^§(\d+(?:\.\d+)?)\s+question\s+(\d+)$/.exec(s);
          ids.push(...(q ? [`§${q[1]}`, `§${q[1]} question ${q[2]}`] : [s]));
        }
      }
      return [...ids, ...numbersAfter("Observation")(text)];
    },
    ids: (md) => {
      const ids = new Set<string>();
      for (const m of md.matchAll(/^#{2,3} (\d+(?:\.\d+)?)\.? /gm)) ids.add(`§${m[1]}`);
      for (const n of numberedItems(md, /^## 5\. Observations/)) ids.add(`Observation ${n}`);
      for (const n of numberedItems(md, /^## 7\. Open questions/)) ids.add(`§7 question ${n}`);
      return ids;
    },
  },
  {
    path: "docs/design/stack.md",
    idsAfter: numbersAfter("pitfall"),
    ids: (md) => new Set([...numberedItems(md, /^## Pitfalls/)].map((n) => `pitfall ${n}`)),
  },
  {
    path: "docs/design/style.md",
    idsAfter: numbersAfter("principle"),
    ids: (md) => new Set([...numberedItems(md, /^## 9\. House style/)].map((n) => `principle ${n}`)),
  },
];

/** Comment continuations (` * `, `// `, `# `) joined, so that a citation broken over two lines reads as one. */
function flatten(text: string): string {
  return text.replace(/[ \t]*\r?\n[ \t]*(?:\*(?!\/)|\/\/+|#(?!#))?[ \t]*/g, " ");
}

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split("\n").length;
}

/** Checks citations in every scanned file and links in every documentation file under `root`. */
export function checkRepository(root: string, stats = { ids: 0, links: 0 }): Problem[] {
  const problems: Problem[] = [];
  const idCache = new Map<string, Set<string>>();
  const read = (rel: string) => readFileSync(join(root, rel), "utf8");
  const idsOf = (doc: CitedDocument) => {
    if (!idCache.has(doc.path))
      idCache.set(doc.path, existsSync(join(root, doc.path)) ? doc.ids(read(doc.path)) : new Set());
    return idCache.get(doc.path)!;
  };

  for (const file of scannedFiles(root).filter((f) => !SELF.has(f))) {
    const text = read(file);
    // In Markdown, link targets are checked as links (checkLinks), not again as named paths.
    const named = file.endsWith(".md") ? blankLinkTargets(text) : text;
    const at = (i: number) => `${file}:${lineOf(text, i)}`;
    for (const m of text.matchAll(/\.\.\/shared\b/g)) {
      problems.push({ file: at(m.index), problem: "cites ../shared, a folder outside the repository" });
    }
    for (const m of text.matchAll(new RegExp(RELATIVE_PLACE.source, "gi"))) {
      problems.push({
        file: at(m.index),
        problem: `says "${m[0].replace(/\s+/g, " ")}": the next round puts another run there; name it by its commit`,
      });
    }
    for (const m of text.matchAll(/\b[Ii]ssues?\s+#?\d+/g)) {
      problems.push({
        file: at(m.index),
        problem: `cites "${m[0]}": issues are not in the repository; say the reason`,
      });
    }
    // Every *.md path named must exist, next to the citing file or from the repository root.
    for (const m of FOREIGN_PATHS.test(file)
      ? []
      : named.matchAll(/(?<![\w/.:@~-])((?:\.{1,2}\/)*(?:[\w.-]+\/)*[\w.-]+\.md)(?![\w/-])/g)) {
      const path = m[1];
      if (!existsSync(resolve(root, dirname(file), path)) && !existsSync(resolve(root, path))) {
        problems.push({ file: at(m.index), problem: `cites ${path}, which is not in the repository` });
      }
    }
    // A section cited by its heading must be a heading of that document, and no heading may be relative to now.
    for (const m of text.matchAll(/(?<![\w/.-])((?:\.{1,2}\/)*(?:[\w.-]+\/)*[\w.-]+\.md)\b/g)) {
      const after = m.index + m[0].length;
      const quoted = /^\)?,?\s+((?:"[^"\n]+"(?:,?\s+and\s+|,\s*)?)+)/.exec(flatten(text.slice(after, after + 200)));
      if (!quoted) continue;
      const cited = [resolve(root, dirname(file), m[1]), resolve(root, m[1])].find((p) => existsSync(p));
      if (!cited) continue; // reported above as a missing document
      const headings = headingTexts(readFileSync(cited, "utf8"));
      for (const h of quoted[1].matchAll(/"([^"]+)"/g)) {
        stats.ids++;
        if (RELATIVE_HEADING.test(h[1]))
          problems.push({
            file: at(m.index),
            problem: `cites ${m[1]} "${h[1]}": a label relative to now, which the next round moves`,
          });
        else if (!headings.some((heading) => namesHeading(h[1], heading)))
          problems.push({ file: at(m.index), problem: `cites ${m[1]} "${h[1]}", which is not a heading of it` });
      }
    }
    if (file.endsWith(".md"))
      for (const h of headingTexts(text))
        if (RELATIVE_HEADING.test(h))
          problems.push({
            file,
            problem: `has the heading "${h}", relative to now: the next round moves it and what cites it`,
          });
    // Cited ids must be in the cited document. What follows a citation may continue on the next comment line.
    for (const doc of CITED_DOCUMENTS) {
      const name = doc.path.replace(/^docs\//, "").replace(/[./]/g, "\\$&");
      for (const m of text.matchAll(new RegExp(`(?<![\\w/.-])(?:\\.\\./)*(?:docs/)?${name}`, "g"))) {
        const after = m.index + m[0].length;
        const known = idsOf(doc);
        for (const id of doc.idsAfter(flatten(text.slice(after, after + 120)))) {
          stats.ids++;
          if (!known.has(id))
            problems.push({
              file: at(m.index),
              problem: `cites ${doc.path} ${id}, which that document does not contain`,
            });
        }
      }
    }
  }

  for (const file of markdownFiles(root)) problems.push(...checkLinks(root, file, stats));
  return problems;
}

/** Markdown link targets outside code replaced by spaces (lengths kept, so that positions stay right). */
function blankLinkTargets(text: string): string {
  const prose = blankCodeSpans(withoutCode(text));
  const chars = text.split(""); // UTF-16 units, as match indexes count
  const spans = [
    ...prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g),
    ...prose.matchAll(/^\s{0,3}\[[^\]]+\]:\s+<?(\S+?)>?(?=\s|$)/gm),
  ];
  for (const m of spans) for (let i = m.index; i < m.index + m[0].length; i++) if (chars[i] !== "\n") chars[i] = " ";
  return chars.join("");
}

/** Relative links (`[text](path#anchor)`, `[ref]: path`) outside code must point at a file or folder, and an anchor. */
export function checkLinks(root: string, file: string, stats = { links: 0 }): Problem[] {
  const problems: Problem[] = [];
  const text = readFileSync(join(root, file), "utf8");
  const prose = blankCodeSpans(withoutCode(text));
  const targets = [
    ...[...prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => [m[1], m.index] as const),
    ...[...prose.matchAll(/^\s{0,3}\[[^\]]+\]:\s+<?(\S+?)>?(?:\s|$)/gm)].map((m) => [m[1], m.index] as const),
  ];
  for (const [target, index] of targets) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("//")) continue; // https:, mailto: ...
    const where = `${file}:${lineOf(text, index)}`;
    stats.links++;
    const [pathPart, anchor] = target.split("#", 2);
    const abs = pathPart ? resolve(root, dirname(file), decodeURIComponent(pathPart)) : join(root, file);
    if (!abs.startsWith(resolve(root) + sep) && abs !== resolve(root)) {
      problems.push({ file: where, problem: `links to ${target}, outside the repository` });
      continue;
    }
    if (!existsSync(abs)) {
      problems.push({ file: where, problem: `links to ${target}: ${relative(root, abs)} does not exist` });
      continue;
    }
    if (anchor !== undefined) {
      if (statSync(abs).isDirectory() || !abs.endsWith(".md")) {
        problems.push({ file: where, problem: `links to ${target}: an anchor into a file that is not Markdown` });
      } else if (!headingAnchors(readFileSync(abs, "utf8")).has(anchor)) {
        problems.push({ file: where, problem: `links to ${target}: ${relative(root, abs)} has no heading #${anchor}` });
      }
    }
  }
  return problems;
}

/**
 * The pages a newcomer follows step by step: every file path, npm script and setting they name in code (`...`) must
 * exist, so that a step that says "edit `src/x.ts`" or "run `npm run y`" can be done as written (found: architecture.md
 * named a `farm-studio look` command no clone has, and files and folders the layer check calls otherwise). With them
 * the pages an operator and a client's author follow (configuration, deploying, clients, the client package's and the
 * web example's READMEs): 31 false alarms there taught the check what they name on purpose (Redis directives, the
 * operator's tools, the reader's own files, elided paths, Vite's and the Dockerfile's variables), none a wrong name.
 */
export const FOLLOWED_PAGES = [
  "README.md",
  "docs/walkthrough.md",
  "docs/api.md",
  "docs/simulator.md",
  "docs/contributing.md",
  "docs/architecture.md",
  "docs/clients.md",
  "docs/configuration.md",
  "docs/deploying.md",
  "client/README.md",
  "examples/web/README.md",
  "docs/performance.md",
];

/**
 * Names a followed page mentions on purpose although they are not in the repository, each with the reason. Keep it
 * short: anything else a page names must exist.
 */
export const NAMED_BUT_ABSENT: Record<string, string> = {
  "request-sender.ts": "design/style.md's name for aopay/transport.ts, contrasted in architecture.md",
  "resources/": "design/style.md's name for aopay/endpoints/, contrasted in architecture.md",
  "graphql/error-codes.ts": "design/style.md's file, split in two here, as architecture.md says",
};

/** `npm <command>`s that npm itself provides (anything else after `npm` or `npm run` must be a script). */
const NPM_COMMANDS = new Set(["ci", "install", "pack", "exec", "run", "create"]);
/**
 * Programs a page may tell a reader to run besides npm scripts and the packages' own (node_modules/.bin): Node and
 * npm, the system's, those README.md says to install, and the operator's (docs/deploying.md: buildah, kubectl).
 */
const PROGRAMS = new Set(
  [
    "node npm npx git docker podman buildah kubectl curl apt-get nvm fnm openssl",
    "diff touch kill ulimit valgrind chromium redis-cli",
  ]
    .join(" ")
    .split(" "),
);
/**
 * Redis configuration directives (redis.conf's, `CONFIG SET`'s): docs/deploying.md and docs/configuration.md tell the
 * operator to set `maxmemory-policy noeviction`, `appendonly yes`, not to run them.
 */
const REDIS_DIRECTIVES = new Set(["maxmemory-policy", "appendonly", "appendfsync"]);
const FILE_EXTENSION = /\.(ts|tsx|js|mjs|cjs|json|ya?ml|graphql|md|tgz|http|sh|css|html)$/;

/** A glob (`*`, `<placeholder>`) as a regular expression over repository paths. */
function pathPattern(glob: string): RegExp {
  const source = glob
    .split(/(\*|<[^>]+>)/)
    .map((part) => (part === "*" || part.startsWith("<") ? "[^/]+" : part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`(?:^|/)${source}${glob.endsWith("/") ? "" : "(?:/|$)"}`);
}

/** Whether a path a page names is in the repository, or is build output its .gitignore names. */
function pathNamed(path: string, files: readonly string[], ignored: readonly RegExp[]): boolean {
  const clean = path.replace(/^\.\//, "");
  if (ignored.some((re) => re.test(clean.replace(/\/$/, "")))) return true;
  // A suffix (`*.settings.ts`, `.input.ts`, `-result.union.ts`) names the files that end with it.
  if (/^[*.-]/.test(clean)) return files.some((f) => f.endsWith(clean.replace(/^\*/, "")));
  // Placeholders and globs stand for the files they match; a path with none is a file or a folder, named from the
  // repository root, src/ or any folder above it (architecture.md's `graphql/guarded-send.ts`, `key-hasher.ts`).
  const re = pathPattern(clean);
  if (files.some((f) => re.test(f))) return true;
  // A path without an extension may name a file by its stem (`test/e2e/throttle` for test/e2e/throttle.test.ts).
  return !/\.[a-z]+$|\/$/.test(clean) && files.some((f) => f.startsWith(`${clean}.`));
}

/** Every file and folder of the repository (the folders with a trailing slash), as the citation scan sees them. */
function repositoryPaths(root: string): string[] {
  const files = walk(root, "");
  const folders = new Set<string>();
  for (const f of files) {
    const parts = f.split("/");
    for (let i = 1; i < parts.length; i++) folders.add(`${parts.slice(0, i).join("/")}/`);
  }
  return [...files, ...folders];
}

/** .gitignore's patterns (build output a page may name before it is built), as expressions over paths. */
function ignoredPatterns(root: string): RegExp[] {
  const file = join(root, ".gitignore");
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#") && !l.startsWith("!") && l.includes("/") && l !== "/")
    .map((l) => {
      const body = l
        .replace(/^\//, "")
        .replace(/\/$/, "")
        .split("*")
        .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
        .join("[^/]*");
      return new RegExp(`^${body}(?:/.*)?$`);
    });
}

/** Setting names declared in the `*.settings.ts` files (keys, and the quoted names of a group's passThrough). */
function declaredSettings(root: string): Set<string> {
  const names = new Set<string>();
  for (const f of walk(root, "src").filter((p) => p.endsWith(".settings.ts"))) {
    const text = readFileSync(join(root, f), "utf8");
    for (const m of text.matchAll(/^\s+([A-Z][A-Z0-9_]+):\s*[a-zA-Z]+\(/gm)) names.add(m[1]);
    for (const m of text.matchAll(/"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)"/g)) names.add(m[1]);
  }
  return names;
}

/**
 * Upper-case names the code uses (`SETTINGS_GROUPS`, the codes `UPSTREAM_UNAVAILABLE`, `CIRCUIT_OPEN`), the tests'
 * helpers included (contributing.md's `DEFAULT_THROTTLE`): a page may name one that is not a setting.
 */
function codeNames(root: string): Set<string> {
  const names = new Set<string>();
  const dirs = ["src", "scripts", "client/src", "test/helpers"];
  const code = dirs
    .flatMap((dir) => walk(root, dir))
    .filter((p) => /\.(ts|tsx|js)$/.test(p) && !p.endsWith(".settings.ts"));
  for (const f of code)
    for (const m of readFileSync(join(root, f), "utf8").matchAll(/\b[A-Z][A-Z0-9_]+\b/g)) names.add(m[0]);
  return names;
}

/**
 * Names the repository's other code reads from the environment (`process.env.CHROMIUM_PATH` in test/helpers,
 * `import.meta.env.VITE_GRAPHQL_URL` in examples/web) or its Dockerfile takes (`ARG NODE_IMAGE`): a page may set them.
 */
function environmentNames(root: string): Set<string> {
  const names = new Set<string>();
  const code = [...walk(root, "scripts"), ...walk(root, "examples"), ...walk(root, "test/helpers")].filter((p) =>
    /\.(ts|tsx|js|mjs)$/.test(p),
  );
  for (const f of code)
    for (const m of readFileSync(join(root, f), "utf8").matchAll(/\benv\.([A-Z][A-Z0-9_]+)\b/g)) names.add(m[1]);
  const dockerfile = join(root, "Dockerfile");
  if (existsSync(dockerfile))
    for (const m of readFileSync(dockerfile, "utf8").matchAll(/^ARG\s+([A-Z][A-Z0-9_]+)/gm)) names.add(m[1]);
  return names;
}

/**
 * What a followed page names in code must exist: `npm run x` / `npm x` / `x:y` a script of package.json, a path a file
 * or folder (placeholders `<resource>` and `*` match any name; build output counts when .gitignore names it), an
 * upper-case name (`REDIS_URL`, `OTP_COOLDOWN_SECONDS=0`) a declared setting or a constant the code defines.
 */
export function checkNamedThings(root: string, file: string): Problem[] {
  const problems: Problem[] = [];
  const text = readFileSync(join(root, file), "utf8");
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts?: Record<string, string> };
  const scripts = new Set(Object.keys(pkg.scripts ?? {}));
  const paths = repositoryPaths(root);
  const ignored = ignoredPatterns(root);
  const settings = declaredSettings(root);
  const inCode = codeNames(root);
  const fromEnvironment = environmentNames(root);
  const sourceText = walk(root, "src")
    .filter((p) => /\.ts$/.test(p))
    .map((f) => readFileSync(join(root, f), "utf8"))
    .join("\n");
  const pkgName = (pkg as { name?: string }).name;
  const contract = join(root, "docs/upstream/aopay-api.md");
  const aopayContract = existsSync(contract) ? readFileSync(contract, "utf8") : "";
  const report = (index: number, problem: string) => problems.push({ file: `${file}:${lineOf(text, index)}`, problem });

  for (const { text: span, index } of inlineCodeSpans(text)) {
    // A placeholder may hold spaces (`v<new version>.graphql`): it is one name.
    const tokens = span
      .replace(/<[^>]*>/g, (p) => p.replace(/\s+/g, "-"))
      .split(/\s+/)
      .filter(Boolean);
    // A message the code writes, quoted up to an elision (`redis maxmemory-policy is ..., not noeviction`).
    const quoted = span.split(/\.\.\.|…/)[0].trim();
    const message = /\.\.\.|…/.test(span) && quoted.length >= 12 && sourceText.includes(quoted);
    // A command (`tsc --watch`, `farm-studio look`): its program must be one a clone has.
    if (
      tokens.length > 1 &&
      !message &&
      !REDIS_DIRECTIVES.has(tokens[0]) &&
      /^[a-z][a-z0-9-]*$/.test(tokens[0]) &&
      /^(?:--?[a-z]|[a-z][\w:-]*$)/.test(tokens[1])
    ) {
      if (!PROGRAMS.has(tokens[0]) && !existsSync(join(root, "node_modules/.bin", tokens[0])))
        report(
          index,
          `names the command \`${tokens[0]}\`, which neither node_modules/.bin nor the system's tools have`,
        );
    }
    // npm scripts: `npm run name`, `npm name`, or a bare `name:part` as in "`npm run format` / `format:check`".
    for (let i = 0; i < tokens.length; i++) {
      if (tokens[i] !== "npm") continue;
      const name = tokens[i + 1] === "run" ? tokens[i + 2] : tokens[i + 1];
      if (name === undefined || name.startsWith("-") || (tokens[i + 1] !== "run" && NPM_COMMANDS.has(name))) continue;
      if (!scripts.has(name)) report(index, `names \`npm run ${name}\`, which is not a script of package.json`);
    }
    // `node:cluster` (a Node built-in) and `node:24-alpine` (the image) are not scripts.
    if (/^[a-z][\w-]*(?::[\w-]+)+$/.test(span) && !span.startsWith("node:") && !scripts.has(span))
      report(index, `names the script \`${span}\`, which package.json does not have`);
    // Settings: `NAME=value` (`OTP_COOLDOWN_SECONDS=0 npm start`) must be one; a bare `NAME` may also be a name the
    // code uses (a constant, an error code).
    for (const token of tokens) {
      const m = /^([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|PORT)(=\S*)?$/.exec(token);
      if (!m || settings.has(m[1]) || fromEnvironment.has(m[1])) continue;
      if (m[2] !== undefined) report(index, `sets ${m[1]}, which no *.settings.ts declares`);
      else if (!inCode.has(m[1])) report(index, `names ${m[1]}, which is neither a setting nor a name in the code`);
    }
    // A file the page has the reader write (`save it as \`src/SendOtp.tsx\``, `in a \`compose.override.yaml\``).
    const written = /(?:\bsave\s+(?:it|this|them)\s+as|\b(?:in|create|write)\s+an?)\s+$/i.test(
      text.slice(Math.max(0, index - 24), index),
    );
    // Paths: a token with a slash or a file extension; not a URL, route (`/graphql`), package (`@x/y`) or option.
    for (const raw of tokens) {
      if (written) break;
      let token = raw.replace(/[,;:)]+$/, "");
      // A setting's value (`NODE_IMAGE=registry.example.com/library/node:24-alpine`), an address
      // (`<container>:9464/metrics`), a value the code has as a string (OTLP's `http/protobuf`): not paths.
      if (/^[A-Z][A-Z0-9_]*=/.test(token) || /^[\w<>.-]+:\d+\//.test(token) || sourceText.includes(`"${token}"`))
        continue;
      // The clone seen from a sibling folder (`../aopay-graphql/client/...`), or elided (`…/client/dist`): the rest
      // is named from the repository's root, or any folder of it.
      const sibling = pkgName && token.startsWith(`../${pkgName}/`);
      const elided = /^(?:…|\.\.\.)\//.test(token);
      if (sibling || elided) {
        token = token.slice(token.indexOf("/") + 1);
        if (sibling) token = token.slice(token.indexOf("/") + 1);
        if (elided && paths.some((f) => f.endsWith("/") && pathNamed(`${f}${token}`, paths, ignored))) continue;
      }
      if (!/\/|^[\w*<>.-]+\.[a-z]+$/.test(token) || !(token.includes("/") || FILE_EXTENSION.test(token))) continue;
      if (/^(?:[a-z]+:|\/|@|-|\.\.\/shared)/.test(token) || token.includes("://")) continue;
      if (NAMED_BUT_ABSENT[token] !== undefined) continue;
      // A media type (`application/json`, `*/*`) or a date format (`DD/MM/YYYY`) is not a path.
      if (/^(?:application|text|multipart|image|\*)\/[\w.+*-]+(?:;[\w.=-]+)*$/.test(token)) continue;
      if (/^[\dDMY]{1,2}\/[\dDMY]{1,2}\/[\dY]{4}$/.test(token)) continue;
      // AOPay's endpoints (`CibilScore/GenerateOTP`, `{AOPAY_BASE_URL}/api/AOP/...`): its contract must name them.
      if (aopayContract.includes(token.replace(/^(?:\{AOPAY_BASE_URL\}|\.\.\.|…)/, ""))) continue;
      if (!pathNamed(token, paths, ignored))
        report(index, `names ${raw.replace(/[,;:)]+$/, "")}, which is not in the repository`);
    }
  }
  return problems;
}
