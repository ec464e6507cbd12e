import type { IncomingHttpHeaders } from "node:http";
import { EdgeCode } from "../graphql/edge-code";
import { errorBody } from "./error-body";
import type { EdgeAnswer, GraphQLExchange } from "./exchange";

/**
 * A GraphQL POST body this server would read differently from what the client meant: refused before a byte of it
 * is read (docs/security.md "The HTTP boundary"). Before, each of these was ignored:
 *
 * - `Content-Encoding` other than `identity` (gzip, deflate, br ...): the compressed bytes were parsed as JSON (a
 *   400 "not valid JSON"), and a body labelled gzip but sent plain was served. Nothing is decompressed, so no
 *   decompression bomb can cost anything: 415, as RFC 9110 §15.5.16 says for a content coding the server does not
 *   support. Our bodies are under BODY_LIMIT_BYTES (32 KiB): compression would save the client little.
 * - a `charset` other than UTF-8 on `application/json`: the body was decoded as UTF-8 whatever it said, so a
 *   `charset=latin1` body's `é` (byte 0xE9) became U+FFFD on its way to validation, and UTF-16 answered "not valid
 *   JSON". Refused (415) rather than honoured: RFC 8259 §8.1 requires UTF-8 for JSON exchanged between systems, its
 *   §11 defines no charset parameter, and the GraphQL-over-HTTP spec's media types are UTF-8 only. Honouring it
 *   would take a decoder per charset for bodies no conforming client sends; a client that labels its body latin1 most
 *   likely sends latin1 bytes, which must not reach AOPay as replacement characters. `charset=utf-8` (any case,
 *   quoted or not) and `utf8` are taken.
 * - a `Content-Type` sent twice: Node kept the first and dropped the other, and a proxy in front may have judged the
 *   other (CSRF rules depend on it). With `joinDuplicateHeaders` (node-limits.ts) Node joins them with ", ", which no
 *   single media type contains outside a quoted parameter: 400.
 *
 * Called only for requests the thin route does not serve (it serves none with a Content-Encoding, and only the five
 * exact JSON content types of graphql-route.ts, all UTF-8): the usual request pays one header lookup for this.
 */
export function representationRefusal(
  headers: IncomingHttpHeaders,
  exchange: Pick<GraphQLExchange, "id" | "graphql">,
): EdgeAnswer | null {
  const encoding = headers["content-encoding"];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== "identity") {
    return refuse(exchange, 415, "content-encoding", "Content-Encoding is not supported: send the body uncompressed.");
  }
  const type = headers["content-type"];
  if (type === undefined) return null;
  if (type.replace(/"[^"]*"/g, "").includes(",")) {
    return refuse(exchange, 400, "content-type repeated", "Send one Content-Type header.");
  }
  const charset = CHARSET.exec(type);
  if (charset !== null) {
    const name = (charset[1] ?? charset[2]).toLowerCase();
    if (name !== "utf-8" && name !== "utf8") {
      return refuse(exchange, 415, "charset", "Unsupported charset: send the JSON body in UTF-8 (charset=utf-8).");
    }
  }
  return null;
}

/**
 * The charset parameter of a media type, quoted or not (RFC 9110 §8.3.1: parameter names are case-insensitive).
 * Hand-written rather than jshttp's content-type (a dependency of a dependency here): its parse throws on a malformed
 * header (`application/json; charset=latin1;`, a trailing `;`), which would leave that header to the route's more
 * lenient reading and its latin1 body decoded as UTF-8 again; the charset must be judged in every header that names
 * one.
 */
const CHARSET = /;\s*charset\s*=\s*(?:"([^"]*)"|([^;\s]*))/i;

function refuse(
  exchange: Pick<GraphQLExchange, "id" | "graphql">,
  status: number,
  reason: string,
  message: string,
): EdgeAnswer {
  // The access line says why (a fixed reason, never the header's value).
  exchange.graphql = { operation: null, result: EdgeCode.BAD_REQUEST, refused: reason };
  // Its body is never read: the connection is closed after the answer, rather than Node reading and dropping the body
  // to get to the next request (a compressed body could be large).
  return { status, headers: { connection: "close" }, body: errorBody(message, EdgeCode.BAD_REQUEST, exchange.id) };
}
