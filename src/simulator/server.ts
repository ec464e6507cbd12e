import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "../logging/logger";
import { resendOtp } from "./aeps";
import { generateOtp } from "./cibil";
import { type SimReply, writeReply } from "./reply";

/**
 * The built-in AOPay simulator: a node:http server on loopback that speaks AOPay's exact paths, methods and
 * envelopes (GET-with-body included), with deterministic scenario triggers (scenarios.ts). It is product code: the
 * server starts it in development when AOPAY_BASE_URL is unset, and the tests use it as the upstream.
 */

export interface SimCredentials {
  registrationId: string;
  companyCode: string;
}

export interface SimRequestContext {
  /** 1, 2, 3 ... per simulator: makes generated ids deterministic for a given call order. */
  sequence: number;
}

export type SimEndpointName = "cibil.generateOtp" | "aeps.resendOtp";

interface Route {
  name: SimEndpointName;
  method: "GET" | "POST";
  /** The body field whose last digits pick the scenario. */
  trigger: string;
  handle(body: Record<string, unknown>, creds: SimCredentials, ctx: SimRequestContext): SimReply;
}

export interface SimulatorOptions extends SimCredentials {
  /** Default `/api/AOP`. */
  apiPrefix?: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: an ephemeral port. */
  port?: number;
  log?: Logger;
  /**
   * Called for every request that reached a route with a JSON body, with the value that picks its scenario (the CIBIL
   * id or the mobile number). For test tooling such as the soak test, which checks that no send was duplicated.
   */
  onRequest?: (endpoint: SimEndpointName, trigger: string) => void;
}

export interface Simulator {
  /** Base URL to use as AOPAY_BASE_URL, e.g. http://127.0.0.1:41234 */
  readonly url: URL;
  /** Requests received per endpoint since start (or the last reset), whatever their scenario. */
  calls(endpoint?: SimEndpointName): number;
  resetCalls(): void;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024;

export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  const prefix = options.apiPrefix ?? "/api/AOP";
  const routes = new Map<string, Route>([
    [`${prefix}/CibilScore/GenerateOTP`, { name: "cibil.generateOtp", method: "GET", trigger: "cibil_id", handle: generateOtp }],
    [`${prefix}/V1/AEPS/UserRegisterBankWise/ResendOTP`, { name: "aeps.resendOtp", method: "POST", trigger: "Mobile", handle: resendOtp }],
  ]);
  const counts = new Map<SimEndpointName, number>();
  let sequence = 0;
  const creds: SimCredentials = { registrationId: options.registrationId, companyCode: options.companyCode };

  const server: Server = createServer((req, res) => {
    const route = routes.get((req.url ?? "").split("?")[0]);
    if (!route) return plain(res, 404, "Not Found");
    counts.set(route.name, (counts.get(route.name) ?? 0) + 1);
    if (req.method !== route.method) return plain(res, 405, "Method Not Allowed", { allow: route.method });
    readJson(req, (body) => {
      if (body === undefined) return plain(res, 400, "Bad Request: body must be a JSON object");
      sequence += 1;
      options.onRequest?.(route.name, String(body[route.trigger] ?? ""));
      const reply = route.handle(body, creds, { sequence });
      options.log?.debug({ endpoint: route.name, reply: reply.kind, status: "status" in reply ? reply.status : undefined }, "simulator answered");
      writeReply(res, reply);
    });
  });
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;

  return {
    url: new URL(`http://${host}:${address.port}`),
    calls: (endpoint) =>
      endpoint ? (counts.get(endpoint) ?? 0) : [...counts.values()].reduce((a, b) => a + b, 0),
    resetCalls: () => counts.clear(),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Hanging scenarios hold sockets open on purpose; a closing simulator drops them.
        server.closeAllConnections();
      }),
  };
}

function plain(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", ...headers });
  res.end(text);
}

function readJson(req: IncomingMessage, done: (body: Record<string, unknown> | undefined) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on("data", (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) req.destroy();
    else chunks.push(chunk);
  });
  req.on("end", () => {
    try {
      const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      done(parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined);
    } catch {
      done(undefined);
    }
  });
}
