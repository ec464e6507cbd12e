import type { DestinationStream } from "pino";

/** An in-memory pino destination: every line the logger writes, after redaction and scrubbing. */
export class LogCapture implements DestinationStream {
  readonly lines: string[] = [];

  write(line: string): void {
    this.lines.push(line);
  }

  /**
   * Every line, with the values the server makes up itself masked: UUIDs (request ids), 32-hex trace ids and the
   * epoch-ms `time`. Tests check that a client value (an OTP such as "918273", a cibil id "abc") is absent, and a
   * random id or a timestamp contains such a string often enough to fail a run now and then. None of these can carry
   * client text (request ids are adopted only as UUIDs, src/http/request-id.ts; a caller's trace id only as 32 hex
   * digits, by the W3C propagator), so masking them hides no text; a test about what a caller's trace id may carry
   * reads `raw()`.
   */
  text(): string {
    return this.lines
      .join("")
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<uuid>")
      .replace(/"(traceId|spanId)":"[0-9a-f]{16,32}"/g, '"$1":"<id>"')
      .replace(/"time":[0-9]+/g, '"time":0');
  }

  /** Every line exactly as written. */
  raw(): string {
    return this.lines.join("");
  }

  records(): Array<Record<string, unknown>> {
    return this.lines
      .flatMap((l) => l.split("\n").filter(Boolean))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  /** The access lines ("request completed", or "request errored") of the request `requestId`: one, normally. */
  accessLines(requestId: string): Array<Record<string, unknown>> {
    return this.records().filter(
      (r) => r.requestId === requestId && (r.msg === "request completed" || r.msg === "request errored"),
    );
  }

  clear(): void {
    this.lines.length = 0;
  }
}
