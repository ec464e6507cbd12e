import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** A ```ts or ```tsx block of a page a consumer reads. */
export interface Snippet {
  /** The page, relative to the repository (`docs/clients.md`). */
  page: string;
  lang: "ts" | "tsx";
  /** The file name the page tells the reader to save it as (`SendOtp.tsx`), or one of ours. */
  file: string;
  code: string;
}

/**
 * Every ```ts and ```tsx block of the pages a consumer reads (README.md, client/README.md, which ships in the package,
 * and docs/*.md), in order. A block after "save it as `src/Name.tsx`" is named so, since the next one imports it.
 * Used by test/e2e/client-package.test.ts and test/unit/scripts/client-pack.test.ts.
 */
export function docSnippets(root: string): Snippet[] {
  const pages = [
    "README.md",
    "client/README.md",
    ...readdirSync(join(root, "docs"))
      .filter((f) => f.endsWith(".md"))
      .map((f) => `docs/${f}`),
  ];
  return pages.flatMap((page) => {
    const text = readFileSync(join(root, page), "utf8");
    return [...text.matchAll(/```(tsx?)\n([\s\S]*?)```/g)].map((m, i) => {
      const lang = m[1] as "ts" | "tsx";
      const before = text.slice(Math.max(0, m.index - 300), m.index);
      const saveAs = /save it as `(?:src\/)?([\w-]+\.tsx?)`[^`]*$/.exec(before)?.[1];
      return { page, lang, file: saveAs ?? `example-${i + 1}.${lang === "ts" ? "mts" : "tsx"}`, code: m[2] };
    });
  });
}
