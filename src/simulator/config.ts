import process from "node:process";
import type { Level } from "pino";
import { ConfigError, type Env, logSecrets, secretValues, SETTINGS_GROUPS } from "../config";
import { SIMULATOR_COMPANY_CODE, SIMULATOR_REGISTRATION_ID } from "../aopay/client.settings";
import { transportSettings } from "../aopay/transport.settings";
import { serverSettings } from "../http/server.settings";
import { unknownNames } from "../settings/names";
import { readGroup } from "../settings/schema";
import { simulatorSettings } from "./simulator.settings";

/** Settings of `npm run simulator` (the simulator on its own). */
export interface SimulatorConfig {
  host: string;
  port: number;
  apiPrefix: string;
  registrationId: string;
  companyCode: string;
  logLevel: Level;
  /**
   * What its logger hides in every line (config.ts logSecrets, the server's list): its own credentials and every
   * secret setting's value in the environment, which it shares with the server (a `.env`). Its runtime logger was
   * made with the level alone: a fault once it listened (an exception, a warning) wrote them whole.
   */
  logSecrets: string[];
}

/**
 * Parses the standalone simulator's settings: SIMULATOR_HOST, SIMULATOR_PORT, AOPAY_API_PREFIX, LOG_LEVEL. Names are
 * checked as the server checks them (a typo in a `.env` shared with it is refused by either), but for the Redis
 * connection parts another program reads (REDIS_HOST, REDIS_PASSWORD ... a bitnami `.env`: settings/names.ts): the
 * server refuses them without REDIS_URL and warns once beside it (app.ts) because they look like where its Redis is
 * and it would not read them; the simulator connects to no Redis (REDIS_URL is not read either), so they change
 * nothing it does: neither refused nor warned about. Before, without REDIS_URL they stopped the simulator (exit 78)
 * with the server's advice to write REDIS_URL, which it would not have read.
 */
export function loadSimulatorConfig(env: Env = process.env): SimulatorConfig {
  const problems = unknownNames(env, SETTINGS_GROUPS, [], false);
  const simulator = readGroup(simulatorSettings, env, problems);
  const config: SimulatorConfig = {
    host: simulator.SIMULATOR_HOST,
    port: simulator.SIMULATOR_PORT,
    apiPrefix: readGroup(transportSettings, env, problems).AOPAY_API_PREFIX,
    // The simulator accepts only its own development credentials (docs/simulator.md), never real ones.
    registrationId: SIMULATOR_REGISTRATION_ID,
    companyCode: SIMULATOR_COMPANY_CODE,
    logLevel: readGroup(serverSettings, env, problems).LOG_LEVEL,
    logSecrets: logSecrets({
      aopay: { registrationId: SIMULATOR_REGISTRATION_ID, companyCode: SIMULATOR_COMPANY_CODE },
      secretValues: secretValues(env),
    }),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
