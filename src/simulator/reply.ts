import { Buffer } from "node:buffer";
import type { ServerResponse } from "node:http";
import { SIM_RETRY_AFTER_SECONDS, SIM_SLOW_MS, type Scenario } from "./scenarios";

/** What the simulator does with one request. */
export type SimReply =
  | { kind: "json"; status: number; body: unknown; delayMs?: number; headers?: Record<string, string> }
  | { kind: "raw"; status: number; contentType: string; text: string; headers?: Record<string, string> }
  | { kind: "truncated"; body: unknown }
  | { kind: "hang" };

/** The bodies that differ per API family; everything else about a scenario is the same for both. */
export interface FamilyBodies {
  success: () => unknown;
  unauthorized: unknown;
  rejected: unknown;
}

const HTML_500 =
  "<!DOCTYPE html><html><head><title>500 - Internal server error.</title></head>" +
  "<body><h1>Server Error</h1><p>Simulated upstream failure.</p></body></html>";

export function replyFor(scenario: Scenario, bodies: FamilyBodies): SimReply {
  switch (scenario.name) {
    case "success":
      return { kind: "json", status: 200, body: bodies.success() };
    case "slow-success":
      return { kind: "json", status: 200, body: bodies.success(), delayMs: SIM_SLOW_MS };
    case "unauthorized":
      return { kind: "json", status: 401, body: bodies.unauthorized };
    case "rejected":
      return { kind: "json", status: 200, body: bodies.rejected };
    case "server-error-html":
      return { kind: "raw", status: 500, contentType: "text/html; charset=utf-8", text: HTML_500 };
    case "unavailable-retry-after":
      return {
        kind: "raw",
        status: 503,
        contentType: "text/plain; charset=utf-8",
        text: "Service Unavailable",
        headers: { "retry-after": String(SIM_RETRY_AFTER_SECONDS) },
      };
    case "no-answer":
      return { kind: "hang" };
    case "truncated-json":
      return { kind: "truncated", body: bodies.success() };
    case "redirect":
      return {
        kind: "raw",
        status: 302,
        contentType: "text/plain; charset=utf-8",
        text: "Found",
        headers: { location: "http://redirect-trap.invalid/api" },
      };
    default: {
      // A scenario added to ScenarioName without its case here fails tsc on this line, naming it:
      // Type '"<name>"' is not assignable to type 'never'.
      const missing: never = scenario.name;
      throw new Error(`simulator scenario without a reply: ${String(missing)}`);
    }
  }
}

/** Writes a reply. `hang` keeps the socket open until the client or the simulator closes it. */
export function writeReply(res: ServerResponse, reply: SimReply): void {
  switch (reply.kind) {
    case "hang":
      return;
    case "json": {
      const send = () => {
        if (res.destroyed) return;
        const text = JSON.stringify(reply.body);
        res.writeHead(reply.status, { "content-type": "application/json; charset=utf-8", ...reply.headers });
        res.end(text);
      };
      if (reply.delayMs) setTimeout(send, reply.delayMs).unref();
      else send();
      return;
    }
    case "raw":
      res.writeHead(reply.status, { "content-type": reply.contentType, ...reply.headers });
      res.end(reply.text);
      return;
    case "truncated": {
      const text = JSON.stringify(reply.body);
      // Promise the whole length, send half, then cut the connection: a body that ends mid-JSON.
      res.writeHead(200, {
        "content-type": "application/json; charset=utf-8",
        "content-length": String(Buffer.byteLength(text)),
      });
      res.write(text.slice(0, Math.floor(text.length / 2)), () => res.destroy());
      return;
    }
  }
}
