// The self-hosted explorer (GraphiQL 5), served by the server itself at /graphiql in development: no request leaves
// the page's own origin (fonts and icons are data: URLs in GraphiQL's CSS, monaco's workers are bundled chunks).
// Built by `npm run explorer:build` into explorer/dist (scripts/explorer-build.js); src/http/explorer.ts serves it.
//
// Like GraphiQL's own examples, it takes `query`, `variables` and `headers` from the URL, so that a link can open it
// with an operation ready to run (docs/walkthrough.md says so; test/e2e/explorer.test.ts uses it): after `#` (which
// no request carries) or after `?`. Once read they are taken out of the page's URL (linkParams).
import "graphiql/setup-workers/vite";
import "graphiql/style.css";
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { GraphiQL } from "graphiql";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { explorerStorage } from "./storage";

/**
 * The link's `query`, `variables` and `headers`, from the query string and the part after `#` (that one wins), then
 * taken out of the page's URL (history.replaceState: the address bar and this history entry). Left there, a link's
 * variables and headers (a customer's numbers, an API key) stayed in the browser's history and went out as the Referer
 * of every request the page made, each GraphQL request included: a proxy in front logs the Referer of each. The
 * page's files also say `Referrer-Policy: no-referrer` (src/http/explorer.ts, index.html), for the requests made
 * before this runs: its scripts and styles.
 */
function linkParams(): URLSearchParams {
  const params = new URLSearchParams(window.location.search);
  for (const [name, value] of new URLSearchParams(window.location.hash.slice(1))) params.set(name, value);
  if (window.location.search !== "" || window.location.hash !== "")
    window.history.replaceState(window.history.state, "", window.location.pathname);
  return params;
}
const params = linkParams();

const DEFAULT_QUERY = `# aopay-graphql: GraphiQL served by this server (no CDN, works offline).
#
# The Docs button (the book icon, top left) lists every operation, input and result with its description.
# Run with Ctrl-Enter or the pink button. The simulator's OTP is always 123456; docs/walkthrough.md walks both flows.

query ServiceInfo {
  serviceInfo {
    upstream
  }
}
`;

// The GraphQL endpoint of the server that served this page.
const fetcher = createGraphiQLFetcher({ url: new URL("../graphql", window.location.href).href });
// Its theme and layout in localStorage; its tabs and history (operations, variables, headers) in this page only.
const storage = explorerStorage();

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root");
createRoot(root).render(
  <StrictMode>
    <GraphiQL
      fetcher={fetcher}
      storage={storage}
      defaultQuery={DEFAULT_QUERY}
      initialQuery={params.get("query") ?? undefined}
      initialVariables={params.get("variables") ?? undefined}
      initialHeaders={params.get("headers") ?? undefined}
    />
  </StrictMode>,
);
