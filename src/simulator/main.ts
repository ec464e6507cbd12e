import { loadSimulatorConfig } from "./config";
import { createLogger } from "../logging/logger";
import { SCENARIOS } from "./scenarios";
import { startSimulator } from "./server";

/** `npm run simulator`: the AOPay simulator alone, e.g. to point another client or a second server at it. */
async function main(): Promise<void> {
  const config = loadSimulatorConfig();
  const log = createLogger({ level: config.logLevel });
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
  process.stderr.write(`Failed to start the simulator: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
