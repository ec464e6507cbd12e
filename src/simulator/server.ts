import { Buffer } from "node:buffer";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "../logging/logger";
import { resendOtp, verifyOtp } from "./aeps";
import { creditHistory, generateOtp, register, submitOtp } from "./cibil";
import { defaultIds, type SimIds } from "./ids";
import { type SimReply, writeReply } from "./reply";
import { type Clock, SimState } from "./state";
import type { SimCredentials, SimRequestContext } from "./types";

export type { SimCredentials, SimRequestContext } from "./types";

export type SimEndpointName =
  | "cibil.register"
  | "cibil.generateOtp"
  | "cibil.submitOtp"
  | "cibil.creditHistory"
  | "aeps.resendOtp"
  | "aeps.verifyOtp";

/**
 * The built-in AOPay simulator: a node:http server on loopback that speaks AOPay's exact paths, methods and
 * envelopes (GET-with-body included), with deterministic scenario triggers (scenarios.ts). It is product code: the
 * server starts it in development when AOPAY_BASE_URL is unset, and the tests use it as the upstream.
 */

interface Route {
  name: SimEndpointName;
  methods: ReadonlyArray<"GET" | "POST">;
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
  /** Time source for OTP expiry and report dates; default Date.now. Tests pass one they can move forward. */
  clock?: Clock;
  /**
   * Opaque ids (merchant_trans_id, question keys, new CIBIL ids); default: deterministic `SIMCBL…` ids (ids.ts). The
   * simulator contract test passes AOPay's documented ones.
   */
  ids?: Partial<SimIds>;
  /**
   * Called for every request that reached a route with a JSON body, with the value that picks its scenario (the CIBIL
   * id or the mobile number), and the parsed body. For test tooling: the soak test checks that no send was duplicated,
   * and the tests check what exactly went on the wire. The simulator itself keeps no bodies.
   */
  onRequest?: (endpoint: SimEndpointName, trigger: string, body: Readonly<Record<string, unknown>>) => void;
}

export interface Simulator {
  /** Base URL to use as AOPAY_BASE_URL, e.g. http://127.0.0.1:41234 */
  readonly url: URL;
  /**
   * Requests answered per endpoint since start (or the last reset), whatever their scenario: those with the route's
   * method and a JSON object body (the calls that would reach AOPay's handler), not the ones refused before it.
   */
  calls(endpoint?: SimEndpointName): number;
  resetCalls(): void;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024;

export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  const prefix = options.apiPrefix ?? "/api/AOP";
  // Methods as documented: GET with a JSON body for the CIBIL family (registeration: GET per its page header, POST per
  // its cURL sample, so both), POST for AEPS.
  const routes = new Map<string, Route>([
    [
      `${prefix}/CibilScore/registeration`,
      { name: "cibil.register", methods: ["GET", "POST"], trigger: "mobile_number", handle: register },
    ],
    [
      `${prefix}/CibilScore/GenerateOTP`,
      { name: "cibil.generateOtp", methods: ["GET"], trigger: "cibil_id", handle: generateOtp },
    ],
    [
      `${prefix}/CibilScore/SubmitOTP`,
      { name: "cibil.submitOtp", methods: ["GET"], trigger: "cibil_id", handle: submitOtp },
    ],
    [
      `${prefix}/CibilScore/GetCreditHistory`,
      { name: "cibil.creditHistory", methods: ["GET"], trigger: "cibil_id", handle: creditHistory },
    ],
    [
      `${prefix}/V1/AEPS/UserRegisterBankWise/ResendOTP`,
      { name: "aeps.resendOtp", methods: ["POST"], trigger: "Mobile", handle: resendOtp },
    ],
    [
      `${prefix}/V1/AEPS/UserRegisterBankWise/VerifyOTP`,
      { name: "aeps.verifyOtp", methods: ["POST"], trigger: "Mobile", handle: verifyOtp },
    ],
  ]);
  const state = new SimState(options.clock);
  const ids: SimIds = { ...defaultIds(), ...options.ids };
  const counts = new Map<SimEndpointName, number>();
  let sequence = 0;
  const creds: SimCredentials = { registrationId: options.registrationId, companyCode: options.companyCode };

  const server: Server = createServer((req, res) => {
    const route = routes.get((req.url ?? "").split("?")[0]);
    if (!route) return plain(res, 404, "Not Found");
    if (!route.methods.includes(req.method as "GET" | "POST"))
      return plain(res, 405, "Method Not Allowed", { allow: route.methods.join(", ") });
    readJson(req, (body) => {
      if (body === undefined) return plain(res, 400, "Bad Request: body must be a JSON object");
      // Counted once its scenario answers it: a request refused (405, 400, a body over MAX_BODY_BYTES) sent nothing,
      // and counted at the door a 405 read as an OTP sent in a test asserting that none was.
      counts.set(route.name, (counts.get(route.name) ?? 0) + 1);
      sequence += 1;
      options.onRequest?.(route.name, String(body[route.trigger] ?? ""), body);
      const reply = route.handle(body, creds, { sequence, state, ids });
      options.log?.debug(
        { endpoint: route.name, reply: reply.kind, status: "status" in reply ? reply.status : undefined },
        "simulator answered",
      );
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
    calls: (endpoint) => (endpoint ? (counts.get(endpoint) ?? 0) : [...counts.values()].reduce((a, b) => a + b, 0)),
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
      done(
        parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)
          ? (parsed as Record<string, unknown>)
          : undefined,
      );
    } catch {
      done(undefined);
    }
  });
}
