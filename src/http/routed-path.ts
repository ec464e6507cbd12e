/**
 * The path a request target names, read as Fastify's router reads it (find-my-way 9, Fastify's defaults: case
 * sensitive, no `;` delimiter, trailing and duplicate slashes kept), so that every listener and every check agrees on
 * which path a request asked for: the API listener's Allow (http-server.ts allowedMethods) and the metrics listener
 * (metrics-server.ts), which compared the target as sent, so that `/%6detrics` and `http://host/metrics` were its
 * 404 while the API listener reads `/%68ealthz` and `http://host/healthz` as /healthz.
 *
 * An absolute form's scheme and authority dropped (RFC 9112 §3.2.2; find-my-way getPathFromAbsoluteUrl: http or https
 * in any case), the path ended at its first `?` or `#`, then percent-decoded with decodeURI, `%25` kept as it is
 * (find-my-way re-encodes it, so that `/%2568ealthz` is not `/%68ealthz`), and so `%2F`, `%3F`, `%23` too. Null when
 * the router refuses the target (its 400 FST_ERR_BAD_URL): a malformed percent-escape, or an absolute form with a
 * fragment or no authority.
 */
export function routedPath(target: string): string | null {
  let path = target;
  if (target.charCodeAt(0) !== SLASH) {
    const absolute = fromAbsoluteForm(target);
    if (absolute === null) return null;
    path = absolute;
  }
  const end = path.slice(1).search(/[?#]/);
  if (end >= 0) path = path.slice(0, end + 1);
  if (!path.includes("%")) return path;
  try {
    return decodeURI(path.replaceAll("%25", "%2525"));
  } catch {
    return null;
  }
}

/**
 * The request target in origin form: an absolute form's path and query (`http://host/graphiql/x.js?v` is
 * `/graphiql/x.js?v`), as the router reads it (fromAbsoluteForm); any other target as it is, one the router refuses
 * included (it still refuses it). Fastify's rewriteUrl (http-server.ts), so that what reads the target after the router
 * reads the one it routed: @fastify/static took `http://host/graphiql/index.html`, routed to its route, for a path
 * outside its prefix and answered 404 (development only), where every other path in absolute form was served.
 */
export function originForm(target: string): string {
  if (target.charCodeAt(0) === SLASH) return target;
  const absolute = fromAbsoluteForm(target);
  return absolute === null ? target : absolute;
}

const SLASH = 47;
/** An absolute form's scheme and authority: http or https, in any case (find-my-way lower-cases the scheme). */
const ABSOLUTE_FORM = /^(https?):\/\/([^/?]*)/i;

/** The path of an absolute-form target, `target` itself when it is none, null when the router refuses it. */
function fromAbsoluteForm(target: string): string | null {
  const absolute = ABSOLUTE_FORM.exec(target);
  if (absolute === null) return target;
  const authority = absolute[2];
  // A fragment anywhere after the scheme, or no authority: the router's 400.
  if (authority === "" || target.includes("#", absolute[1].length + 3)) return null;
  try {
    if (new URL(target).host === "") return null;
  } catch {
    return null;
  }
  const rest = target.slice(absolute[0].length);
  return rest === "" ? "/" : rest.startsWith("?") ? `/${rest}` : rest;
}

/**
 * The query string of a request target as the router hands it to Fastify's query parser (find-my-way 9
 * safeDecodeURI): whatever follows the first `?` or `#` after the target's first character, with a `?` before it;
 * `""` when there is none. Apollo reads a GET's parameters from this (graphql-route.ts), and the checks before it
 * (exchange.ts documentRefusal) read them from it the way Apollo does (get-parameters.ts), so that it runs the
 * document they read: Apollo took the text from the first `?`, and `GET /graphql#?query=...` (Fastify's parameters:
 * one named `?query`, no document) ran a document no check had seen, an untrusted one under
 * TRUSTED_DOCUMENTS=enforce, or one over MAX_QUERY_CHARS.
 */
export function routedSearch(target: string): string {
  const question = target.indexOf("?", 1);
  const hash = target.indexOf("#", 1);
  const at = hash !== -1 && (question === -1 || hash < question) ? hash : question;
  return at === -1 ? "" : `?${target.slice(at + 1)}`;
}

/**
 * The asterisk form (`OPTIONS *`, RFC 9112 §3.2.4: the server as a whole), whatever follows a `?` or `#`: no path, so
 * not routedPath's; both listeners read it with this (http-server.ts allowedMethods, metrics-server.ts).
 */
export const ASTERISK = /^\*(?:[?#]|$)/;
