/**
 * The same text in V8's two-byte representation, for JSON.parse of a text that carries a request's own values (a
 * client's body): equal to `text` in every way JavaScript can see (length, characters, comparison), only stored with
 * two bytes a character.
 *
 * Why: V8's JSON parser internalizes every string value shorter than 10 characters of a one-byte source text (as it
 * does the keys), and an internalized string is made in the old generation and stays in the string table until a
 * mark-compact. A request's short values (an AEPS user key, primary key id and transaction id, `BK1a2`, `PK1234`) are
 * new each time, so each request left ~75 B of old generation behind, garbage that only a mark-compact frees and that
 * brings the next one closer. From a two-byte source the parser internalizes keys only; a value of Latin-1 characters
 * still comes out one-byte (JsonParser::ScanJsonString, V8 13.6, Node 24). Measured in docs/performance-runs.md,
 * round fa99ddb "what the server allocates and promotes per request": 74.5 -> 1.3 B of old generation per AEPS body.
 *
 * How: a character outside Latin-1 before the text makes the concatenation two-byte, and the slice after it (a view
 * of that flat copy, or a copy for a text under 13 characters) is two-byte too. The copy is young garbage: about
 * twice the text's length in bytes, once per body.
 */
export function twoByte(text: string): string {
  return (WIDE + text).slice(1);
}

/** Any character above U+00FF (one that a one-byte string cannot hold). */
const WIDE = "\u0100";
