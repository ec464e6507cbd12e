import type { Logger } from "../logging/logger";
import type { Scrubber } from "../pii/scrub";
import type { Endpoint, WireContext } from "./endpoint";
import { aepsResendOtp, type AepsOtpResent, type ResendAepsOtpRequest } from "./endpoints/aeps-resend-otp";
import {
  cibilGenerateOtp,
  type CibilOtpChallenge,
  type GenerateCibilOtpRequest,
} from "./endpoints/cibil-generate-otp";
import { AopayError } from "./errors";
import { interpretResponse } from "./outcome";
import { type AopayTransport, errorCode } from "./transport";

export interface CallOptions {
  /** The request's logger (carries the request id). */
  log: Logger;
  /** Absolute deadline (ms since epoch); the transport also applies its configured per-call deadline. */
  deadlineAt?: number;
}

/** One finished upstream call, for observers such as metrics. Never carries bodies or customer data. */
export interface UpstreamCallEvent {
  endpoint: string;
  /** `OK` or an AopayErrorCode. */
  outcome: string;
  httpStatus?: number;
  upstreamCode?: string;
  sent: boolean;
  durationMs: number;
}

export interface AopayClientOptions {
  transport: AopayTransport;
  wire: WireContext;
  scrubber: Scrubber;
  onCall?: (event: UpstreamCallEvent) => void;
}

/**
 * The typed AOPay API: one short method per endpoint module. Owns the transport and the partner credentials;
 * resolvers never see either.
 */
export class AopayClient {
  readonly cibil = {
    generateOtp: (input: GenerateCibilOtpRequest, opts: CallOptions): Promise<CibilOtpChallenge> =>
      this.call(cibilGenerateOtp, input, opts),
  };

  readonly aeps = {
    resendOtp: (input: ResendAepsOtpRequest, opts: CallOptions): Promise<AepsOtpResent> =>
      this.call(aepsResendOtp, input, opts),
  };

  constructor(private readonly options: AopayClientOptions) {}

  get transport(): AopayTransport {
    return this.options.transport;
  }

  async call<In, Out>(endpoint: Endpoint<In, Out>, input: In, opts: CallOptions): Promise<Out> {
    const started = performance.now();
    const { transport, wire, scrubber } = this.options;
    try {
      const res = await transport.send({
        endpoint: endpoint.name,
        method: endpoint.method,
        path: endpoint.path,
        body: endpoint.toWire(input, wire),
        sideEffect: endpoint.sideEffect,
        deadlineAt: opts.deadlineAt,
      });
      const envelope = interpretResponse(endpoint, res, scrubber);
      const out = endpoint.fromWire(envelope, input, scrubber);
      this.#report(opts.log, {
        endpoint: endpoint.name,
        outcome: "OK",
        httpStatus: res.statusCode,
        upstreamCode: envelope.upstreamCode,
        sent: true,
        durationMs: performance.now() - started,
        merchantTransactionId: envelope.merchantTransactionId,
      });
      return out;
    } catch (error) {
      if (error instanceof AopayError) {
        this.#report(opts.log, {
          endpoint: endpoint.name,
          outcome: error.code,
          httpStatus: error.httpStatus,
          upstreamCode: error.upstreamCode,
          sent: error.sent,
          durationMs: performance.now() - started,
          cause: error.cause instanceof Error ? errorCode(error.cause) : undefined,
          detail: error.message,
        });
      }
      throw error;
    }
  }

  #report(log: Logger, event: UpstreamCallEvent & { merchantTransactionId?: string; cause?: string; detail?: string }): void {
    const { merchantTransactionId, cause, detail, ...metricEvent } = event;
    const fields = { upstream: { ...metricEvent, durationMs: Math.round(event.durationMs * 10) / 10, cause, merchantTransactionId } };
    if (event.outcome === "OK") log.info(fields, "upstream call");
    else log.warn(fields, detail ?? "upstream call failed");
    this.options.onCall?.(metricEvent);
  }
}
