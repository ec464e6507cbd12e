import type { Endpoint } from "../../../../src/aopay/endpoint";
import { endpointModules } from "../../../helpers/endpoint-modules";
import { REGISTRATION_INPUT, scrubber, successOf } from "../../../helpers/endpoint-wire";

/**
 * An endpoint's `knownKeys` must list every key its `fromWire` reads (src/aopay/endpoint.ts: "wire keys the mapping
 * reads"): an answer key missing there is logged as undocumented on every shape that carries it, although we map it,
 * and nothing else notices (a made-up field mapped on ResendOTP without it passed tsc, codegen:check and its tests).
 * Each fromWire runs over a body that records the keys read, two levels deep as knownKeys names them (`data.data`;
 * `result.*` stands for every key under `result`).
 */
function keysRead(endpoint: Endpoint<never, unknown>, input: Record<string, unknown>): string[] {
  const read = new Set<string>();
  const recording = (path: string[]): object =>
    new Proxy(
      {},
      {
        get(_target, key) {
          if (typeof key !== "string" || key in Object.prototype || key === "then" || key === "toJSON")
            return undefined;
          const at = [...path, key];
          if (at.length <= 2) read.add(at.join("."));
          return recording(at);
        },
      },
    );
  const body = recording([]) as Record<string, unknown>;
  endpoint.fromWire({ ...successOf({}), body } as never, input as never, scrubber);
  return [...read].sort();
}

/** Inputs the mappings accept (validated forms, as the endpoint tests use). */
const INPUT = {
  ...REGISTRATION_INPUT,
  cibilId: "102277100",
  accessToken: "123456542124",
  otp: "123456",
  userKey: "AOP554N3XXXX",
  aadhaar: "234123412346",
  primaryKeyId: "TEST",
  encodeTxnId: "DEMO",
};

/** Every endpoint module's Endpoint, read from src/aopay/endpoints itself: a new module is checked without a list. */
const ENDPOINTS = endpointModules().map((m) => m.endpoint);

describe("every key an endpoint's fromWire reads is in its knownKeys", () => {
  it("finds the endpoint modules", () => {
    // Not vacuous: the six documented endpoints at least (docs/upstream/aopay-api.md §0).
    expect(ENDPOINTS.length).toBeGreaterThanOrEqual(6);
  });

  it.each(ENDPOINTS.map((e) => [e.name, e] as const))("%s", (_name, endpoint) => {
    const known = new Set(endpoint.knownKeys);
    const read = keysRead(endpoint, INPUT);
    // Not vacuous: every mapping reads its answer's body. The folded envelope.message and merchantTransactionId are
    // not read from it: a mapping of those alone failed here as "Expected: > 0", which told a newcomer nothing.
    expect({ endpoint: endpoint.name, readsAKeyOfEnvelopeBody: read.length > 0 }).toEqual({
      endpoint: endpoint.name,
      readsAKeyOfEnvelopeBody: true,
    });
    const missing = read.filter((k) => !known.has(k) && !known.has(`${k.split(".")[0]}.*`));
    expect({ endpoint: endpoint.name, missingFromKnownKeys: missing }).toEqual({
      endpoint: endpoint.name,
      missingFromKnownKeys: [],
    });
  });
});
