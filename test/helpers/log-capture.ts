import type { DestinationStream } from "pino";

/** An in-memory pino destination: every line the logger writes, after redaction and scrubbing. */
export class LogCapture implements DestinationStream {
  readonly lines: string[] = [];

  write(line: string): void {
    this.lines.push(line);
  }

  text(): string {
    return this.lines.join("");
  }

  records(): Array<Record<string, unknown>> {
    return this.lines.flatMap((l) => l.split("\n").filter(Boolean)).map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  clear(): void {
    this.lines.length = 0;
  }
}
