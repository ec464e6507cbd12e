// First: an uncaught exception and Node's warnings are logged scrubbed (see early-faults.ts).
import { logFaultsTo } from "../early-faults";
import process from "node:process";
import { ConfigError, secretValues } from "../config";
import { loadSimulatorConfig } from "./config";
import { failStart } from "../logging/fail-start";
import { createLogger } from "../logging/logger";
import { SCENARIOS } from "./scenarios";
import { startSimulator } from "./server";
import { refuseArguments } from "../util/command-line";

/** `npm run simulator`: the AOPay simulator alone, e.g. to point another client or a second server at it. */
async function main(): Promise<void> {
  refuseArguments(
    "usage: npm run simulator   (or node dist/simulator/main.js; no arguments: settings from the environment,\n" +
      "       SIMULATOR_HOST, SIMULATOR_PORT, AOPAY_API_PREFIX, LOG_LEVEL: docs/simulator.md)\n",
  );
  const config = loadSimulatorConfig();
  const log = createLogger({ level: config.logLevel, secrets: config.logSecrets });
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
  const secrets = secretValues(process.env);
  // As the server's (src/index.ts): a bad setting is exit 78 (EX_CONFIG), said on stderr and in the JSON log; it was
  // exit 1 and stderr only, which a container's restart policy and a log store read as a crash, not a configuration.
  if (error instanceof ConfigError) {
    failStart(
      error.message,
      "invalid configuration: the simulator did not start",
      { problems: error.problems },
      78,
      secrets,
    );
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  failStart(`Failed to start the simulator: ${message}`, "the simulator did not start", { error: message }, 1, secrets);
});
