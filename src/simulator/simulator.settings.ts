import { defineSettings, int, LISTEN_ADDRESS, text } from "../settings/schema";

export const DEFAULT_SIMULATOR_PORT = 4010;

/** `npm run simulator` on its own (src/simulator/main.ts); it also reads AOPAY_API_PREFIX and LOG_LEVEL. */
export const simulatorSettings = defineSettings({
  title: "Standalone simulator",
  module: "src/simulator/main.ts",
  prefixes: ["SIMULATOR_"],
  settings: {
    SIMULATOR_HOST: text({ ...LISTEN_ADDRESS, default: "127.0.0.1", doc: "listen address of `npm run simulator`" }),
    SIMULATOR_PORT: int({
      default: DEFAULT_SIMULATOR_PORT,
      min: 0,
      max: 65_535,
      doc: "listen port of `npm run simulator`",
    }),
  },
});
