import type { AopayClient, CallOptions } from "../aopay/client";
import type { Logger } from "../logging/logger";

/** Per-request state (STYLE.md principle 7): built fresh for every GraphQL request. */
export interface GraphQLContext {
  requestId: string;
  /** Child logger carrying the request id. */
  log: Logger;
  aopay: AopayClient;
  upstreamMode: "live" | "simulator";
  /** Options for one upstream call made on behalf of this request. */
  callOptions(): CallOptions;
}
