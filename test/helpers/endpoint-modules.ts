import { readdirSync } from "node:fs";
import { join } from "node:path";
import type { Endpoint } from "../../src/aopay/endpoint";

/** The endpoint modules' folder: one file per AOPay endpoint (docs/architecture.md "Adding an AOPay endpoint"). */
export const ENDPOINTS_DIR = join(__dirname, "..", "..", "src", "aopay", "endpoints");

export interface EndpointModule {
  /** The module's file name, e.g. `cibil-generate-otp.ts`. */
  file: string;
  /** The export the file is named after (`cibilGenerateOtp`). */
  exportName: string;
  endpoint: Endpoint<never, unknown>;
}

const isEndpoint = (value: unknown): value is Endpoint<never, unknown> =>
  typeof value === "object" &&
  value !== null &&
  ["name", "method", "path", "sideEffect", "knownKeys", "toWire", "fromWire"].every((key) => key in value);

/**
 * Every module of src/aopay/endpoints with its Endpoint, read from the folder itself, so that a test going over the
 * endpoints cannot miss a new one (a list kept by hand in each test is one more place to forget). Each module
 * `<resource>-<endpoint>.ts` exports its Endpoint as `<resource><Endpoint>` (`cibil-generate-otp.ts`:
 * `cibilGenerateOtp`), or a function making it from its HTTP method (`cibilRegister`: registeration's method is
 * undocumented, docs/upstream/aopay-api.md §1.1), called here with "POST". A module without one fails, naming it.
 */
export function endpointModules(): EndpointModule[] {
  return readdirSync(ENDPOINTS_DIR)
    .filter((file) => file.endsWith(".ts"))
    .sort()
    .map((file) => {
      const exportName = file.slice(0, -3).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const exported = (require(join(ENDPOINTS_DIR, file)) as Record<string, unknown>)[exportName];
      const endpoint = typeof exported === "function" ? (exported as (method: string) => unknown)("POST") : exported;
      if (!isEndpoint(endpoint))
        throw new Error(
          `src/aopay/endpoints/${file} must export its Endpoint as \`${exportName}\` (or a function of the HTTP ` +
            "method making it): docs/architecture.md, Adding an AOPay endpoint, step 1",
        );
      return { file, exportName, endpoint };
    });
}
