import { Scrubber } from "../../../src/pii/scrub";

/**
 * A registered secret holding a character JSON escapes (`"`, `\`, a control character) is hidden on a log line too
 * (src/pii/scrub.ts Scrubber.scrubLine), where pino writes every string as JSON does: the line holds the secret's
 * escaped spelling, never the one scrubLine searched for. The secrets are every secret setting's value (config.ts
 * secretValues: REDIS_URL's password decoded, HMAC_SECRET, API keys), any of which may hold such a character; before,
 * a log line quoting one (an error's message) carried it in clear, while scrub (stderr's text) hid it.
 */

const SECRETS = ['pa"ss-word-1', "back\\slash-2", "tab\tsecret-3", 'both\\"of-them', "line\nbreak-4", "trail\\"];

describe("a secret JSON escapes, on a log line", () => {
  it.each(SECRETS)("is redacted where pino wrote it: %j", (secret) => {
    const scrubber = new Scrubber(SECRETS);
    for (const obj of [{ msg: `failed: ${secret} refused` }, { err: { message: secret, stack: `Error: ${secret}` } }]) {
      const line = `${JSON.stringify({ level: "error", time: 1796557635637, ...obj })}\n`;
      const out = scrubber.scrubLine(line);
      // Still a JSON line, and neither spelling of the secret left in it nor in what a log reader parses.
      const parsed = JSON.stringify(JSON.parse(out));
      expect({ written: out.includes(JSON.stringify(secret).slice(1, -1)), read: parsed.includes(secret) }).toEqual({
        written: false,
        read: false,
      });
      expect(out).toContain("[REDACTED]");
    }
    // As before: the text scrub, and a secret written without escapes.
    expect(scrubber.scrub(`x ${secret} y`)).toBe("x [REDACTED] y");
  });

  it("leaves a line alone that holds no spelling of one", () => {
    const scrubber = new Scrubber(SECRETS);
    const line = `${JSON.stringify({ level: "info", time: 1796557635637, msg: 'pa"ss back\\slash tab\t' })}\n`;
    expect(scrubber.scrubLine(line)).toBe(line);
  });
});

/**
 * Escaped twice: a JSON text inside a logged string (an upstream body in an error's message, a JSON-stringified
 * detail) is escaped by whoever wrote it and again by pino, so the line holds `\\\"` for the secret's `"` and
 * `\\u0001` for a control character. Before, only the once-escaped spelling was searched for, and the line showed the
 * secret.
 */
describe("a secret JSON escapes, escaped twice or three times on a log line", () => {
  const MORE = [...SECRETS, "ctl\u0001char-5", 'all"of\\them\t\u001f-6'];
  const nested = (secret: string) => [
    { msg: JSON.stringify({ detail: secret }) },
    { err: { message: `upstream said ${JSON.stringify({ error: `bad ${secret}` })}` } },
    { body: JSON.stringify(JSON.stringify({ key: secret })) },
    { msg: JSON.stringify([JSON.stringify({ key: secret })]) },
  ];

  it.each(MORE)("is redacted: %j", (secret) => {
    const scrubber = new Scrubber(MORE);
    for (const obj of nested(secret)) {
      const line = `${JSON.stringify({ level: "warn", time: 1796557635637, ...obj })}\n`;
      const out = scrubber.scrubLine(line);
      // Parse the line, then every string in it that is JSON, as a reader would: the secret in none of them.
      const seen: string[] = [];
      const read = (value: unknown): void => {
        if (typeof value === "string") {
          seen.push(value);
          try {
            read(JSON.parse(value));
          } catch {
            /* not JSON */
          }
        } else if (value !== null && typeof value === "object") for (const v of Object.values(value)) read(v);
      };
      read(JSON.parse(out));
      expect({ line: obj, leaked: seen.filter((s) => s.includes(secret)) }).toEqual({ line: obj, leaked: [] });
      expect(out).toContain("[REDACTED]");
    }
  });
});
