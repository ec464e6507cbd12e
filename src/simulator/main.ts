// First: an uncaught exception and Node's warnings are logged scrubbed (see early-faults.ts).
import { logFaultsTo } from "../early-faults";
import process from "node:process";
import { SIMULATOR_COMPANY_CODE, SIMULATOR_REGISTRATION_ID } from "../aopay/client.settings";
import { ConfigError, logSecrets, secretValues } from "../config";
import { loadSimulatorConfig } from "./config";
import { failStart } from "../logging/fail-start";
import { createLogger } from "../logging/logger";
import { SCENARIOS } from "./scenarios";
import { startSimulator } from "./server";
import { refuseArguments } from "../util/command-line";

/**
 * The `service` of its log lines: the logger's default is the server's name (`aopay-graphql`), and a log store that
 * gathers both (one compose file, one .env) showed the simulator's lines, a failed start's too, as the server's.
 */
const SERVICE = { service: "aopay-simulator" };

/** `npm run simulator`: the AOPay simulator alone, e.g. to point another client or a second server at it. */
async function main(): Promise<void> {
  refuseArguments(
    "usage: npm run simulator   (or node dist/simulator/main.js; no arguments: settings from the environment,\n" +
      "       SIMULATOR_HOST, SIMULATOR_PORT, AOPAY_API_PREFIX, LOG_LEVEL: docs/simulator.md)\n",
  );
  const config = loadSimulatorConfig();
  const log = createLogger({ level: config.logLevel, secrets: config.logSecrets, base: SERVICE });
  logFaultsTo(log);
  const sim = await startSimulator({ ...config, log });
  log.info(
    { url: sim.url.href, scenarios: SCENARIOS.map((s) => `${s.suffix ?? "other"}: ${s.name}`) },
    "AOPay simulator listening (set AOPAY_BASE_URL to this URL)",
  );
  const stop = () => void sim.close().then(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((error: unknown) => {
  // The environment's secrets hidden, as the server's start hides them (src/index.ts): the simulator reads the
  // server's .env, and a line shifted there put its HMAC_SECRET in SIMULATOR_HOST, whose lookup error
  // (`getaddrinfo ENOTFOUND <value>`) was said whole on stderr and in the JSON line.
  // Its own credentials too, as its running lines hide them: a secret by the project's own definition (config.ts
  // logSecrets, "the partner credentials (the simulator's too)"), though docs/simulator.md publishes them, since they
  // fill the slots of a real partner's (AOPAY_REGISTRATION_ID, AOPAY_COMPANY_CODE) and one rule for both is the one not
  // to get wrong. A start that failed on a value holding them (SIMULATOR_HOST=SIM-REG-0001) said them whole.
  const secrets = logSecrets({
    aopay: { registrationId: SIMULATOR_REGISTRATION_ID, companyCode: SIMULATOR_COMPANY_CODE },
    secretValues: secretValues(process.env),
  });
  // As the server's (src/index.ts): a bad setting is exit 78 (EX_CONFIG), said on stderr and in the JSON log; it was
  // exit 1 and stderr only, which a container's restart policy and a log store read as a crash, not a configuration.
  if (error instanceof ConfigError) {
    failStart(
      error.message,
      "invalid configuration: the simulator did not start",
      { problems: error.problems },
      78,
      secrets,
      SERVICE,
    );
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  failStart(
    `Failed to start the simulator: ${message}`,
    "the simulator did not start",
    { error: message },
    1,
    secrets,
    SERVICE,
  );
});
