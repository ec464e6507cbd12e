import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import type { FastifyError, FastifyInstance } from "fastify";

/** Where the self-hosted explorer is served, in development only. */
export const EXPLORER_PATH = "/graphiql";

/** explorer/dist, built by `npm run explorer:build` (npm start and npm run dev build it when it is missing or stale). */
export const EXPLORER_DIST = join(__dirname, "../../explorer/dist");

/**
 * The page may load and connect to its own origin only, so the browser itself refuses any request to another host
 * (a CDN, a font service): the explorer works offline by construction, not by accident. GraphiQL's fonts and icons
 * are data: URLs in its CSS; monaco's workers are same-origin module chunks; GraphiQL and monaco set inline styles.
 */
const EXPLORER_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "worker-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self' data:",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join("; ");

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Explorer not built</title></head>
<body style="font-family: sans-serif; padding: 1em">
<h1>The explorer is not built</h1>
<p>Run <code>npm run explorer:build</code> in the repository (<code>npm start</code> and <code>npm run dev</code> build it
when it is missing), then reload this page. Until then, <code>curl</code> works: see docs/walkthrough.md.</p>
</body></html>
`;

/**
 * Whether the explorer's `/graphiql/*` route answers a GET of a request target the router sends it (`url`, as sent:
 * still percent-encoded, its query string included) with a file, not with the not-found handler: see
 * registerExplorer.
 */
export type ExplorerServes = (url: string) => boolean;

/** The escapes @fastify/static decodes before decodeURI, which keeps them: `#` and `?` (its decodePathname). */
const ENCODED_HASH_OR_QUESTION_MARK = /%(?:23|3f)/gi;

/**
 * Whether explorer/dist (`dist`) holds the file a GET of `url` is answered with, as @fastify/static (its
 * getPathnameForSend) finds it: the target up to its first `?` (a `#` is part of the name there, where the router
 * ends the path at it), the prefix as sent (`/graphiq%6c/` is routed here but names no file), the rest decoded with
 * decodeURI after `%23` and `%3F` (so `%2F` stays in the name: `assets%2fx.js` is no file there; decodeURIComponent
 * made it assets/x.js), `/graphiql/` its index.html, a directory none (it lists none). A `.` or `..` segment, an empty
 * one (`//`, a trailing `/`) or a `\` names none: @fastify/static refuses them (its 403, a 404 here:
 * registerExplorer). Read when asked (a stat), as the files are: a rebuild while the server runs renames the hashed
 * bundles. One stat per request that reaches the not-found handler under /graphiql/, in development only.
 */
function distHolds(dist: string, url: string): boolean {
  const end = url.indexOf("?");
  const path = end < 0 ? url : url.slice(0, end);
  if (!path.startsWith(`${EXPLORER_PATH}/`)) return false;
  let rest: string;
  try {
    rest = decodeURI(path.slice(EXPLORER_PATH.length + 1).replace(ENCODED_HASH_OR_QUESTION_MARK, decodeURIComponent));
  } catch {
    return false;
  }
  if (rest === "") rest = "index.html";
  if (rest.includes("\\")) return false;
  if (rest.split("/").some((segment) => segment === "" || segment === "." || segment === "..")) return false;
  try {
    return statSync(join(dist, rest), { throwIfNoEntry: false })?.isFile() === true;
  } catch {
    // A NUL in the name (ERR_INVALID_ARG_VALUE), a name too long: no such file.
    return false;
  }
}

/**
 * Serves GraphiQL (explorer/, built with Vite from the graphiql npm package) at /graphiql/ from this server's own
 * origin. Development only: createHttpServer does not call this in production, where /graphiql is a 404 like any
 * unknown path. Files are read when asked for (nothing is loaded at startup). Returns whether a path is answered: the
 * not-found handler (http-server.ts) answers another method on it 405, and 404 on a path it does not answer.
 */
export async function registerExplorer(
  fastify: FastifyInstance,
  dist: string = EXPLORER_DIST,
): Promise<ExplorerServes> {
  fastify.get(EXPLORER_PATH, async (_request, reply) => reply.redirect(`${EXPLORER_PATH}/`));
  if (!existsSync(join(dist, "index.html"))) {
    fastify.get(`${EXPLORER_PATH}/*`, async (_request, reply) =>
      reply
        .code(503)
        .header("content-type", "text/html; charset=utf-8")
        .header("cache-control", "no-store")
        .send(NOT_BUILT_PAGE),
    );
    // Every path under /graphiql/ is answered, with the page saying how to build it.
    return () => true;
  }
  // A require() here, not an import at the top: @fastify/static and what it pulls in (@fastify/send, mime, glob:
  // 38 modules, 2.0 MB of heap measured alone) are loaded in development only, never in production.
  const fastifyStatic = require("@fastify/static") as typeof import("@fastify/static");
  await fastify.register(async (scope) => {
    // A `..`, `.` or empty segment (`/graphiql/%2e%2e/x`, `/graphiql//index.html`) was @fastify/static's 403, which
    // the error handler wrote as 403 BAD_REQUEST "Bad request.": no file is there, so the not-found handler's 404.
    scope.setErrorHandler((error: FastifyError, _request, reply) => {
      if (error.code === "FST_STATIC_FORBIDDEN_PATH") return void reply.callNotFound();
      throw error;
    });
    await scope.register(fastifyStatic, {
      root: dist,
      prefix: `${EXPLORER_PATH}/`,
      decorateReply: false,
      // index.html names the hashed bundles: revalidate it; the bundles under assets/ never change under their name.
      setHeaders: (res, path) => {
        res.header("content-security-policy", EXPLORER_CSP);
        res.header("x-content-type-options", "nosniff");
        // A link's `?variables=` and `?headers=` (a customer's numbers, an API key) were in the Referer of every
        // request the page made before its script took them out of its URL (explorer/src/main.tsx linkParams): its
        // scripts, styles and workers. A proxy in front logs each request's Referer. Same origin only (the CSP), so
        // none is needed.
        res.header("referrer-policy", "no-referrer");
        res.header("cache-control", path.includes("/assets/") ? "public, max-age=31536000, immutable" : "no-cache");
      },
    });
  });
  return (url) => distHolds(dist, url);
}
