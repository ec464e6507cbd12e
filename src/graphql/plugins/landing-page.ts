import type { ApolloServerPlugin, BaseContext, GraphQLServerContext, LandingPage } from "@apollo/server";
import { ApolloServerPluginLandingPageLocalDefault } from "@apollo/server/plugin/landingPage/default";

/**
 * The sentence Apollo's embedded-Sandbox page shows when its script cannot be loaded from Apollo's CDN
 * (@apollo/server's plugin/landingPage/default/getEmbeddedHTML.js). It has no option for that fallback's content.
 */
export const SANDBOX_OFFLINE_SENTENCE = "<p>Apollo Sandbox cannot be loaded; it appears that you might be offline.</p>";

/**
 * The start of Apollo's rule for Sandbox's container, a full-window box laid over the fallback: while it is empty
 * (the CDN script failed, so no iframe went in) it would take every click meant for the fallback's link. We put a
 * rule before it, in the same (nonce-carrying) style element, that hides the container while it is empty.
 */
const SANDBOX_CONTAINER_RULE = "#embeddableSandbox {";

/**
 * The line of Apollo's page that gives Sandbox its endpoint: the page's whole URL. A GET's `?query=…&variables=…`
 * opened in a browser (any GET preferring text/html gets this page) went whole into Sandbox's iframe, a page of
 * Apollo's, and each operation Sandbox ran was sent to that URL, the variables in every request line (a proxy's log).
 * We give it the origin and path alone: the endpoint is the same, the query string and fragment are not sent on.
 */
const SANDBOX_ENDPOINT_LINE = "var initialEndpoint = window.location.href;";
/**
 * The query string and fragment also left the address bar and the history (history.replaceState): nothing on the page
 * reads them once Sandbox has its endpoint, and kept they were the Referer of what the page opened (REFERRER_POLICY).
 */
const SANDBOX_ENDPOINT =
  "var initialEndpoint = window.location.origin + window.location.pathname; " +
  'window.history.replaceState(null, "", initialEndpoint);';

/**
 * The first line of the page's head, and the meta we put after it: the page sent no Referrer-Policy, and a browser's
 * default (strict-origin-when-cross-origin) gives a same-origin request the whole URL as its Referer, so the page's
 * link to the explorer carried a GET's `?query=…&variables=…` (a customer's numbers) into the Referer of /graphiql/,
 * which a proxy in front logs (test/e2e/explorer.test.ts), as the explorer's pages did before they said
 * `no-referrer` (src/http/explorer.ts). Apollo's page has no option for it; a meta in the head is read before any
 * request the page makes (its CDN script comes after it).
 */
const HEAD_FIRST_LINE = '<meta charset="utf-8" />';
const REFERRER_POLICY = '<meta name="referrer" content="no-referrer" />';

/**
 * Apollo Sandbox as the development landing page (GET /graphql from a browser), as before, with one addition: when
 * Sandbox cannot load (no access to Apollo's CDN, common on bank networks), the page's fallback offers the
 * explorer this server hosts itself (GraphiQL at `explorerPath`, src/http/explorer.ts).
 *
 * Apollo renders the fallback under the Sandbox iframe and it shows only when the CDN script fails; we add our link
 * to it by replacing Apollo's sentence, and keep Sandbox's empty container from covering it. Should a new @apollo/server change that sentence, the link would silently
 * be gone: landingPageWithExplorer() therefore throws at startup instead, and test/e2e/explorer.test.ts opens the
 * page with every non-loopback request blocked and follows the link.
 */
export function landingPageWithExplorer(explorerPath: string): ApolloServerPlugin<BaseContext> {
  const sandbox = ApolloServerPluginLandingPageLocalDefault({ embed: true });
  const offer =
    `${SANDBOX_OFFLINE_SENTENCE}\n  <p>This server also hosts an explorer that needs no CDN: ` +
    `<a id="self-hosted-explorer" href="${explorerPath}/">open GraphiQL at ${explorerPath}</a>.</p>`;
  const withOffer = (html: string): string => {
    if (
      !html.includes(SANDBOX_OFFLINE_SENTENCE) ||
      !html.includes(SANDBOX_CONTAINER_RULE) ||
      !html.includes(SANDBOX_ENDPOINT_LINE) ||
      !html.includes(HEAD_FIRST_LINE)
    ) {
      throw new Error(
        "landingPageWithExplorer: Apollo's Sandbox page has changed; update SANDBOX_OFFLINE_SENTENCE, SANDBOX_CONTAINER_RULE, SANDBOX_ENDPOINT_LINE and HEAD_FIRST_LINE",
      );
    }
    return html
      .replace(HEAD_FIRST_LINE, `${HEAD_FIRST_LINE}\n    ${REFERRER_POLICY}`)
      .replace(SANDBOX_ENDPOINT_LINE, SANDBOX_ENDPOINT)
      .replace(SANDBOX_OFFLINE_SENTENCE, offer)
      .replace(SANDBOX_CONTAINER_RULE, `#embeddableSandbox:empty { display: none; }\n  ${SANDBOX_CONTAINER_RULE}`);
  };
  return {
    async serverWillStart(context: GraphQLServerContext) {
      const listener = await sandbox.serverWillStart?.(context);
      const render = listener?.renderLandingPage;
      if (!render) throw new Error("landingPageWithExplorer: Apollo's landing page plugin rendered no page");
      // Fail at startup, not on the first browser visit.
      const probe = await render();
      withOffer(typeof probe.html === "string" ? probe.html : await probe.html());
      return {
        ...listener,
        async renderLandingPage(): Promise<LandingPage> {
          const page = await render();
          const { html } = page;
          // Apollo's html() makes a fresh CSP nonce per page: keep it a function.
          return { ...page, html: typeof html === "string" ? withOffer(html) : async () => withOffer(await html()) };
        },
      };
    },
  };
}
