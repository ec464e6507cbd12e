import type { TransportOptions, TransportRequest } from "../../src/aopay/transport";

/** Transport options for tests against a fake upstream at `url`: timeouts in seconds, not the production defaults. */
export function testTransportOptions(url: string, overrides: Partial<TransportOptions> = {}): TransportOptions {
  return {
    baseUrl: new URL(url),
    apiPrefix: "/api/AOP",
    connectTimeoutMs: 1000,
    headersTimeoutMs: 2000,
    bodyTimeoutMs: 2000,
    deadlineMs: 3000,
    maxResponseBytes: 64 * 1024,
    connections: 4,
    queueLimit: 16,
    keepAliveTimeoutMs: 1000,
    ...overrides,
  };
}

/** A CIBIL GenerateOTP call as the client makes it: a GET with a JSON body, a side effect (an SMS). */
export const otpSend: TransportRequest = {
  endpoint: "cibil.generateOtp",
  method: "GET",
  path: "/CibilScore/GenerateOTP",
  body: { cibil_id: 102277100, access_token: "t", RegistrationID: "AOP-554", CompanyCode: "CMP1045" },
  sideEffect: true,
};
