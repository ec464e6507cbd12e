import { formatWithOptions } from "node:util";
import type { Logger } from "./logger";

/** The levels a library's line is logged at (OpenTelemetry's `verbose` is `trace`). */
export type LibraryLineLevel = "error" | "warn" | "info" | "debug" | "trace";

/**
 * One line a library would have printed itself (the `debug` module's, early-faults.ts routeDebugLines; OpenTelemetry's
 * diagnostics, observability/telemetry.ts diagLogger) as a log line of `log`, scrubbed as every line is: its arguments
 * formatted as util.format does (`%s`, `%d`, objects inspected), on one line (breakLength Infinity, compact), 4 levels
 * deep, without colours. Not formatted at all when `log` would drop the level: a `DEBUG=*` or `OTEL_LOG_LEVEL=all`
 * line under LOG_LEVEL=info costs no inspection.
 */
export function logLibraryLine(log: Logger, level: LibraryLineLevel, args: unknown[]): void {
  if (log.isLevelEnabled(level))
    log[level](formatWithOptions({ breakLength: Infinity, compact: true, depth: 4, colors: false }, ...args));
}
