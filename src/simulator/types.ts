import type { SimIds } from "./ids";
import type { SimState } from "./state";

/** The simulator's shared types: the server (server.ts) routes to the handlers (cibil.ts, aeps.ts), which take these. */
export interface SimCredentials {
  registrationId: string;
  companyCode: string;
}

export interface SimRequestContext {
  /** 1, 2, 3 ... per simulator: makes generated ids deterministic for a given call order. */
  sequence: number;
  /** Customers, OTPs, attempts and expiry (state.ts). */
  state: SimState;
  /** Opaque ids AOPay would generate (ids.ts). */
  ids: SimIds;
}
