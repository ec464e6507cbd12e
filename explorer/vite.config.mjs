// Vite config of the self-hosted explorer (GraphiQL), built by `npm run explorer:build` into explorer/dist and served
// by the server at /graphiql in development (src/http/explorer.ts).
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  // Relative asset URLs: the page works wherever the server mounts it (/graphiql/).
  base: "./",
  // React's automatic JSX runtime, compiled by Vite itself (as examples/web does; no @vitejs/plugin-react).
  oxc: { jsx: { runtime: "automatic", importSource: "react" } },
  // monaco's workers as ES module chunks, imported with `?worker` by graphiql/setup-workers/vite.
  worker: { format: "es" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // Monaco is several MB; a GraphiQL bundle is large by nature and served from loopback only.
    chunkSizeWarningLimit: 8192,
    // No source maps: the bundle is only ever run, never debugged, and they would double its size on disk.
    sourcemap: false,
    rolldownOptions: {
      onwarn(warning, warn) {
        // framer-motion (a GraphiQL dependency) marks its modules "use client", a React Server Components directive
        // that means nothing in a client-only bundle; the bundler warns once per module.
        if (warning.code === "MODULE_LEVEL_DIRECTIVE") return;
        warn(warning);
      },
    },
  },
  logLevel: "warn",
});
