import { context, propagation, trace } from "@opentelemetry/api";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** An OTLP/HTTP receiver decoding OTLP/JSON, for tests that check the spans a server exports. */

export interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
  arrayValue?: { values?: OtlpValue[] };
}
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: Array<{ key: string; value: OtlpValue }>;
  status?: { code?: number };
}
export interface OtlpExport {
  resourceSpans: Array<{
    resource: { attributes: Array<{ key: string; value: OtlpValue }> };
    scopeSpans: Array<{ spans: OtlpSpan[] }>;
  }>;
}

/** OTLP span kinds (opentelemetry-proto trace.proto). */
export const SERVER = 2;
export const CLIENT = 3;

export const attributesOf = (list: Array<{ key: string; value: OtlpValue }> = []) =>
  Object.fromEntries(
    list.map(({ key, value }) => [
      key,
      value.stringValue ??
        value.boolValue ??
        value.doubleValue ??
        value.arrayValue?.values?.map((v) => v.stringValue) ??
        (value.intValue === undefined ? undefined : Number(value.intValue)),
    ]),
  );

export interface Receiver {
  url: string;
  exports: Array<{ path: string; headers: IncomingHttpHeaders; text: string }>;
  spans(): OtlpSpan[];
  close(): Promise<void>;
}

/** An OTLP/HTTP receiver: records every export (path, headers, body) and answers 200 with an empty response. */
export async function startReceiver(): Promise<Receiver> {
  const exports: Receiver["exports"] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      exports.push({ path: req.url ?? "", headers: req.headers, text: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    exports,
    spans: () =>
      exports.flatMap((e) =>
        (JSON.parse(e.text) as OtlpExport).resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)),
      ),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * After an in-process server exported to a receiver: the OTEL_* variables set for its SDK (`names`) removed from
 * process.env unless `saved` (process.env as it was) held them, and the API's globals the SDK registered (tracer
 * provider, context manager, propagator), which live on globalThis for every later test file in this jest worker,
 * unregistered.
 */
export function forgetTelemetry(saved: NodeJS.ProcessEnv, names: Iterable<string>): void {
  for (const name of names) if (!(name in saved)) delete process.env[name];
  trace.disable();
  context.disable();
  propagation.disable();
}
