// Vite config of the example app (npm run example:web; npm run example:web:build).
//
// The app imports the client by its package name, exactly as a consumer app does:
//   import { useGenerateCibilOtpMutation } from "@aopay-graphql/client/react";
// Here that name is an alias for the client's sources (client/src), so the app always runs the committed generated
// code: after `npm run codegen`, new operations' hooks are there with no package build in between. An app outside
// this repo installs the built package instead (docs/clients.md); test/e2e/client-package.test.ts proves
// that package.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const clientSource = (file) => fileURLToPath(new URL(`../../client/src/${file}`, import.meta.url));

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  resolve: {
    alias: [
      { find: /^@aopay-graphql\/client\/react$/, replacement: clientSource("react/index.ts") },
      { find: /^@aopay-graphql\/client$/, replacement: clientSource("index.ts") },
    ],
  },
  // React's automatic JSX runtime, compiled by Vite itself: no @vitejs/plugin-react, which is not a dependency of
  // this repository (the explorer's vite.config.mjs does the same).
  oxc: { jsx: { runtime: "automatic", importSource: "react" } },
  // 5173 is one of the server's default development CORS origins (CORS_ORIGINS).
  server: { port: 5173, strictPort: true },
  preview: { port: 5173, strictPort: true },
});
