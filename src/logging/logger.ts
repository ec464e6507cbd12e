import pino, { type DestinationStream, type Level, type Logger } from "pino";
import { Scrubber } from "../pii/scrub";

export type { Logger };

/**
 * Key paths whose values never reach a log line, at any level (pino `redact`, SECURITY.md D3). Our code does not log
 * inputs or upstream bodies at all; these paths guard against a future `log.debug({ input })`. Both our GraphQL names
 * and the upstream's wire spellings are listed, one and two levels deep.
 */
const SENSITIVE_KEYS = [
  "aadhaar",
  "mobile",
  "otp",
  "accessToken",
  "userKey",
  "primaryKeyId",
  "encodeTxnId",
  "access_token",
  "AdhaarNumber",
  "Mobile",
  "mobile_number",
  "Otp",
  "Userkey",
  "PrimaryKeyId",
  "EncodeTxnId",
  "RegistrationID",
  "CompanyCode",
  "registrationId",
  "companyCode",
  "pancard",
  "date_of_birth",
  "email_id",
  "variables",
];
export const REDACT_PATHS = [
  ...SENSITIVE_KEYS,
  ...SENSITIVE_KEYS.map((k) => `*.${k}`),
  ...SENSITIVE_KEYS.map((k) => `*.*.${k}`),
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
];

export interface LoggerOptions {
  level: Level;
  /** Values scrubbed from every line wherever they appear (partner credentials, API keys). */
  secrets?: Iterable<string>;
  /** Where lines go. Default: stdout. Tests pass an in-memory stream. */
  destination?: DestinationStream;
}

/**
 * One pino logger for the process. Every serialised line passes `Scrubber.scrub` just before it is written, so an
 * Aadhaar- or mobile-shaped run or a registered secret is masked even if it hid inside an error message.
 */
export function createLogger(options: LoggerOptions): Logger {
  const scrubber = new Scrubber(options.secrets ?? []);
  return pino(
    {
      level: options.level,
      base: { service: "aopay-graphql" },
      redact: { paths: REDACT_PATHS, censor: "[REDACTED]" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: pino.stdSerializers.err },
      hooks: { streamWrite: (line) => scrubber.scrub(line) },
    },
    options.destination ?? pino.destination({ fd: 1, sync: false }),
  );
}
