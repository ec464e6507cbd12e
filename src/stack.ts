import type { App, AppDependencies } from "./app";
import { createApp } from "./app";
import { type Config, logOptions } from "./config";
import { createLogger } from "./logging/logger";
import { startTelemetry } from "./observability/telemetry";
import type { Simulator } from "./simulator/server";
import type { Clock } from "./simulator/state";

export interface Stack {
  app: App;
  /** Present when the built-in simulator answers for AOPay. */
  simulator?: Simulator;
  /** The config actually in use (with the simulator's URL when it runs). */
  config: Config;
  /**
   * `exportWithinMs`: how long the trace export may still take when it begins (index.ts: what is left before the
   * shutdown watchdog); telemetry.ts's own cap when absent (in-process tests).
   */
  stop(exportWithinMs?: () => number): Promise<void>;
}

/**
 * The app plus, in simulator mode, the built-in simulator on an ephemeral loopback port. Used by `npm start`
 * (src/index.ts) and by the end-to-end tests, so both run exactly the same wiring.
 */
export interface StackDependencies extends AppDependencies {
  /** The built-in simulator's clock (OTP expiry); default Date.now. */
  simulatorClock?: Clock;
}

export async function startStack(config: Config, deps: StackDependencies = {}): Promise<Stack> {
  const logger = deps.logger ?? createLogger(logOptions(config));
  // Before the app: its spans go to the SDK from the first request. Null (nothing loaded) unless OTEL_* asks for export.
  const telemetry = startTelemetry(config.telemetry, logger);
  let simulator: Simulator | undefined;
  let effective = config;
  if (config.aopay.mode === "simulator") {
    // Loaded in simulator mode only: a process with AOPAY_BASE_URL never needs it.
    const { startSimulator } = require("./simulator/server") as typeof import("./simulator/server");
    simulator = await startSimulator({
      registrationId: config.aopay.registrationId,
      companyCode: config.aopay.companyCode,
      apiPrefix: config.aopay.apiPrefix,
      log: logger.child({ component: "simulator" }),
      clock: deps.simulatorClock,
    });
    effective = { ...config, aopay: { ...config.aopay, baseUrl: simulator.url } };
  }
  const app = await createApp(effective, { ...deps, logger });
  return {
    app,
    simulator,
    config: effective,
    async stop(exportWithinMs) {
      await app.stop();
      await simulator?.close();
      // Last: the spans of the requests that finished while draining are exported too.
      await telemetry?.shutdown(exportWithinMs?.());
    },
  };
}
