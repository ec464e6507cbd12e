import type { Storage } from "@graphiql/toolkit";

/**
 * What GraphiQL may keep in the browser's localStorage: its theme and layout, nothing typed into it. By default it
 * kept every tab's operation and variables (`graphiql:tabState`, `graphiql:query`, `graphiql:variables`) and, in its
 * history plugin, every operation run with its variables and its headers (`graphiql:queries`, `graphiql:favorites`),
 * the headers whatever `shouldPersistHeaders` said: a customer's Aadhaar number, mobile, PAN, name and date of birth,
 * a CIBIL access token, the API key, on the developer's disk in clear until the browser's data is cleared (an attack
 * review found them there after one run). Those are now kept in the page's memory only: tabs and history last as long
 * as the page. Names as GraphiQL 5 writes them (@graphiql/react STORAGE_KEY, the resizable panes' storageKey).
 */
const KEPT = new Set(
  ["theme", "visiblePlugin", "docExplorerFlex", "editorFlex", "secondaryEditorFlex"].map((name) => `graphiql:${name}`),
);

/**
 * GraphiQL's `storage`: the keys in KEPT in localStorage, every other one in a Map of this page. What an earlier
 * explorer left in localStorage under any other `graphiql:` key is removed when the page loads.
 */
export function explorerStorage(): Storage {
  for (const key of Object.keys(localStorage)) {
    if (key.startsWith("graphiql:") && !KEPT.has(key)) localStorage.removeItem(key);
  }
  const memory = new Map<string, string>();
  return {
    getItem: (key) => (KEPT.has(key) ? localStorage.getItem(key) : (memory.get(key) ?? null)),
    setItem: (key, value) => (KEPT.has(key) ? localStorage.setItem(key, value) : void memory.set(key, value)),
    removeItem: (key) => (KEPT.has(key) ? localStorage.removeItem(key) : void memory.delete(key)),
    clear: () => {
      for (const key of KEPT) localStorage.removeItem(key);
      memory.clear();
    },
    get length() {
      return memory.size + [...KEPT].filter((key) => localStorage.getItem(key) !== null).length;
    },
  };
}
