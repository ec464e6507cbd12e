import { bool, defineSettings, int, type ValuesOf } from "../settings/schema";

/**
 * A budget: at most `points` OTP sends per `seconds`. The destination budgets (cooldown, window, daily) are sliding
 * windows, every span of that length ending now; the others fixed windows (otp-throttle.ts).
 */
export interface Budget {
  points: number;
  seconds: number;
}

/**
 * OTP throttling (docs/security-requirements.md B1-B4). The send budgets count sends that may have reached AOPay (a
 * refused attempt counts nothing); the verification budgets (`verify`, `verifyIp`, `verifyClient`) count guesses.
 */
export interface ThrottleConfig {
  /**
   * Minimum time between two sends to the same destination (graphql/guarded-mutations.ts: mobile, Aadhaar, CIBIL id or
   * token, AEPS user key or reference).
   */
  cooldownSeconds: number;
  /** Per destination, short window (B2: 3 per 10 minutes, in any 10 minutes). */
  destinationWindow: Budget;
  /** Per destination, per day (B2: 10, in any 24 hours). */
  destinationDaily: Budget;
  /**
   * Per mobile-number prefix (first 6 digits), across all callers (B4: SMS pumping walks number ranges from many
   * IPs, Twilio Fraud Guard blocks prefixes). Applies where we know the mobile (AEPS).
   */
  mobilePrefix: Budget;
  /** Per source IP (B3; Firebase Auth allows 50 verification SMS per minute per IP). */
  ip: Budget;
  /** Per authenticated API client. */
  client: Budget;
  /** Whole service (B4; Firebase: 1,000 SMS per minute per project). */
  global: Budget;
  /**
   * OTP verification attempts per destination (submitCibilOtp, verifyAepsOtp): a 4-digit OTP falls to 10,000
   * guesses, so attempts are capped here whatever AOPay allows (Twilio Verify: 5 checks per verification).
   */
  verify: Budget;
  /**
   * OTP verification attempts per source IP and per API client, across customers: the per-customer budget above
   * leaves one caller 5 guesses at every customer it can name, which the sends' IP and client caps bound for sends and
   * nothing bounded for guesses. Counted apart from the sends' (a guess sends nothing; a customer's flow makes about
   * as many of each), with the same defaults.
   */
  verifyIp: Budget;
  verifyClient: Budget;
  /**
   * CIBIL registrations (registerCibilCustomer) per source IP and per API client. A registration sends no SMS, so no
   * send budget applies to it; but each one AOPay accepts keeps two records for 90 days in the tables every client
   * shares (registered mobiles, in memory or Redis), and without a budget one client could register as fast as
   * admission lets it. Counted before AOPay is called; a registration that provably never left is given back.
   */
  registerIp: Budget;
  registerClient: Budget;
  /**
   * Credit-report reads (cibilCreditHistory, CibilOtpVerified.creditHistory): per (API client, CIBIL id) and per API
   * client. Each read is an upstream GetCreditHistory call, a credit-bureau pull that costs money and hands out a
   * customer's credit file; consent (a verified OTP within CIBIL_CONSENT_TTL_SECONDS) says who may read, these say
   * how often. Counted after the consent check, before AOPay is called; a read that provably never left is given
   * back.
   */
  readCibil: Budget;
  readClient: Budget;
  /**
   * Credit-report read attempts per source IP, consented or not: taken before the consent check and kept. A client's
   * consents are its own, but one API key may be every install of an app (`mobile-app`), each on its own IP: without
   * it, one IP holding that key could ask for CIBIL id after id at no cost (ConsentRequired took no budget) to find the
   * customers the app verified in the last 30 minutes, then pull their reports up to the client's whole read budget,
   * which every other install shares. An IPv6 address counts by its /64, as the sends' IP budget.
   */
  readIp: Budget;
  /**
   * With Redis, also count each destination's sends in the fixed-window keys of the versions before the sliding
   * windows (`otp:cooldown:`, `otp:window:`, `otp:daily:`), and refuse by them too: replicas of both versions then see
   * each other's sends to a destination during a rolling update, and this version sees the sends made before it
   * (docs/deploying.md). On by default in this version: an update from a version with fixed windows is safe without
   * anyone knowing to set it; its cost is three more keys per destination in the send's one script, what the versions
   * before paid. Absent (a throttle built directly, as tests do): off.
   */
  legacyDestinationKeys?: boolean;
}

export const DEFAULT_OTP_COOLDOWN_SECONDS = 60;
export const DEFAULT_OTP_WINDOW: Budget = { points: 3, seconds: 600 };
export const DEFAULT_OTP_DAILY: Budget = { points: 10, seconds: 86_400 };
/** A 6-digit prefix spans 10,000 numbers; 50 sends to one range in 10 minutes looks like pumping, not customers. */
export const DEFAULT_OTP_PREFIX: Budget = { points: 50, seconds: 600 };
export const DEFAULT_OTP_IP: Budget = { points: 50, seconds: 60 };
export const DEFAULT_OTP_CLIENT: Budget = { points: 300, seconds: 60 };
export const DEFAULT_OTP_GLOBAL: Budget = { points: 1000, seconds: 60 };
export const DEFAULT_OTP_VERIFY: Budget = { points: 5, seconds: 600 };
/** As many guesses as sends per IP and per client (DEFAULT_OTP_IP, DEFAULT_OTP_CLIENT): one check per OTP sent. */
export const DEFAULT_OTP_VERIFY_IP: Budget = DEFAULT_OTP_IP;
export const DEFAULT_OTP_VERIFY_CLIENT: Budget = DEFAULT_OTP_CLIENT;
/**
 * Registrations per IP and per client: a customer registers once, after filling in a form (minutes), and every
 * registration is followed by at least one OTP send (generateCibilOtp), so a flow the send budgets let through
 * (DEFAULT_OTP_IP, DEFAULT_OTP_CLIENT: 50 and 300 a minute) never needs more registrations than sends. 30 a minute
 * from one address (an agent's device, or a partner's backend: one every 2 s) and 120 a minute per client (2 a
 * second, 172,800 a day) are below those and above any onboarding flow we know of; what they stop is a client
 * registering as fast as admission allows (hundreds a second) to fill the shared registered-mobile records.
 */
export const DEFAULT_REGISTER_IP: Budget = { points: 30, seconds: 60 };
export const DEFAULT_REGISTER_CLIENT: Budget = { points: 120, seconds: 60 };
/**
 * Reads of one customer's credit report by one client: 5 per 30 minutes, the consent window
 * (DEFAULT_CIBIL_CONSENT_TTL_SECONDS, protection.settings.ts). A flow reads the report once as it verifies the OTP
 * (CibilOtpVerified.creditHistory) and perhaps once or twice more (a page reloaded, a read repeated after
 * UpstreamUnavailable); 5 leaves room for those and stops a client re-pulling the same file as fast as admission
 * lets it. A fixed window opened by the first read: at most 10 reads in a span across two windows' edge.
 */
export const DEFAULT_READ_CIBIL: Budget = { points: 5, seconds: 1800 };
/**
 * Reads per client, across customers: as many as the OTP sends a client may make (DEFAULT_OTP_CLIENT, 300 a
 * minute). Every read needs a verified OTP and every verified OTP a send, so a flow reading once per customer never
 * needs more; what it bounds is a client with many consents re-reading all of them (9,000 consents in a window at
 * 300 sends a minute, 5 reads each: 1,500 pulls a minute without it).
 */
export const DEFAULT_READ_CLIENT: Budget = DEFAULT_OTP_CLIENT;
/**
 * Read attempts per source IP: twice the OTP sends an IP may make (DEFAULT_OTP_IP, 50 a minute), so that a caller
 * reading each customer it sent an OTP to once as it verifies and once more is never refused, while a probe of CIBIL
 * ids from one IP gets 100 a minute (it got as many as admission allowed, 3 per request).
 */
export const DEFAULT_READ_IP: Budget = { points: 100, seconds: 60 };

const points = (fallback: Budget, doc: string, max = 10_000_000) => int({ default: fallback.points, min: 1, max, doc });
/**
 * The destination budgets' most points: each destination keeps the times of its last that many sends (the largest of
 * OTP_WINDOW_MAX and OTP_DAILY_MAX), 4 B each per destination entry in memory, whether used or not (memory-counters.ts
 * DestinationCounters), and a sorted-set member each in Redis (redis-budgets.ts). At 100, 400 B per destination;
 * 10,000,000 (the other budgets' limit) would let one setting ask for 40 MB per destination, and 1,000,000 entries
 * (MEMORY_THROTTLE_MAX_KEYS) for 40 TB.
 */
export const MAX_DESTINATION_POINTS = 100;
const seconds = (fallback: Budget, doc: string) => int({ default: fallback.seconds, min: 1, max: 31 * 86_400, doc });

/** OTP budgets (src/protection/otp-throttle.ts; docs/security-requirements.md B1-B4). */
export const throttleSettings = defineSettings({
  title: "OTP budgets",
  module: "src/protection/otp-throttle.ts",
  prefixes: ["OTP_", "REGISTER_", "READ_"],
  settings: {
    OTP_COOLDOWN_SECONDS: int({
      default: DEFAULT_OTP_COOLDOWN_SECONDS,
      min: 0,
      max: 86_400,
      doc: "minimum time between two sends to the same destination (`0`: no cooldown; the windows below still count)",
    }),
    OTP_WINDOW_MAX: points(
      DEFAULT_OTP_WINDOW,
      "sends per destination in any span of the window below (a sliding window; at most 100: each destination keeps " +
        "the times of its last max(`OTP_WINDOW_MAX`, `OTP_DAILY_MAX`) sends, 4 B each per destination in memory)",
      MAX_DESTINATION_POINTS,
    ),
    OTP_WINDOW_SECONDS: seconds(DEFAULT_OTP_WINDOW, "that window"),
    OTP_DAILY_MAX: points(
      DEFAULT_OTP_DAILY,
      "sends per destination in any 24 hours (a sliding window, not a calendar day; at most 100, as `OTP_WINDOW_MAX`)",
      MAX_DESTINATION_POINTS,
    ),
    OTP_PREFIX_MAX: points(
      DEFAULT_OTP_PREFIX,
      "sends to one mobile-number range (first 6 digits) per window, across all callers (SMS-pumping guard)",
    ),
    OTP_PREFIX_WINDOW_SECONDS: seconds(DEFAULT_OTP_PREFIX, "that window"),
    OTP_IP_MAX: points(DEFAULT_OTP_IP, "sends per source IP per window"),
    OTP_IP_WINDOW_SECONDS: seconds(DEFAULT_OTP_IP, "that window"),
    OTP_CLIENT_MAX: points(DEFAULT_OTP_CLIENT, "sends per API client per window"),
    OTP_CLIENT_WINDOW_SECONDS: seconds(DEFAULT_OTP_CLIENT, "that window"),
    OTP_GLOBAL_MAX: points(DEFAULT_OTP_GLOBAL, "sends by the whole service per window"),
    OTP_GLOBAL_WINDOW_SECONDS: seconds(DEFAULT_OTP_GLOBAL, "that window"),
    OTP_VERIFY_MAX: points(
      DEFAULT_OTP_VERIFY,
      "OTP verification attempts per customer (mobile, Aadhaar, CIBIL id or token; an AEPS registration too) per window",
    ),
    OTP_VERIFY_WINDOW_SECONDS: seconds(DEFAULT_OTP_VERIFY, "that window"),
    OTP_VERIFY_IP_MAX: points(
      DEFAULT_OTP_VERIFY_IP,
      "OTP verification attempts per source IP per window, across customers (counted apart from its sends)",
    ),
    OTP_VERIFY_IP_WINDOW_SECONDS: seconds(DEFAULT_OTP_VERIFY_IP, "that window"),
    OTP_VERIFY_CLIENT_MAX: points(
      DEFAULT_OTP_VERIFY_CLIENT,
      "OTP verification attempts per API client per window, across customers (counted apart from its sends)",
    ),
    OTP_VERIFY_CLIENT_WINDOW_SECONDS: seconds(DEFAULT_OTP_VERIFY_CLIENT, "that window"),
    REGISTER_IP_MAX: points(
      DEFAULT_REGISTER_IP,
      "`registerCibilCustomer` calls per source IP per window (it sends no SMS, but each registration keeps two " +
        "records for 90 days that every client shares); beyond it `RegistrationRefused` `RATE_LIMITED`, nothing sent",
    ),
    REGISTER_IP_WINDOW_SECONDS: seconds(DEFAULT_REGISTER_IP, "that window"),
    REGISTER_CLIENT_MAX: points(DEFAULT_REGISTER_CLIENT, "`registerCibilCustomer` calls per API client per window"),
    REGISTER_CLIENT_WINDOW_SECONDS: seconds(DEFAULT_REGISTER_CLIENT, "that window"),
    READ_CIBIL_MAX: points(
      DEFAULT_READ_CIBIL,
      "credit-report reads (`cibilCreditHistory`, `CibilOtpVerified.creditHistory`) of one customer (CIBIL id) by one " +
        "API client per window, each an AOPay GetCreditHistory call (a credit-bureau pull); beyond it `ReadThrottled` " +
        "`READ_THROTTLED` (scope `DESTINATION`), AOPay not called",
    ),
    READ_CIBIL_WINDOW_SECONDS: seconds(
      DEFAULT_READ_CIBIL,
      "that window (default the consent window, `CIBIL_CONSENT_TTL_SECONDS`' default)",
    ),
    READ_CLIENT_MAX: points(
      DEFAULT_READ_CLIENT,
      "credit-report reads per API client per window, across customers (`ReadThrottled`, scope `CLIENT`)",
    ),
    READ_CLIENT_WINDOW_SECONDS: seconds(DEFAULT_READ_CLIENT, "that window"),
    READ_IP_MAX: points(
      DEFAULT_READ_IP,
      "credit-report read attempts per source IP per window (an IPv6 address by its /64), with or without consent: " +
        "counted before the consent check and kept, so that CIBIL ids cannot be probed for free; beyond it " +
        "`ReadThrottled` (scope `IP`), neither the consent store nor AOPay asked",
    ),
    READ_IP_WINDOW_SECONDS: seconds(DEFAULT_READ_IP, "that window"),
    OTP_LEGACY_DESTINATION_KEYS: bool({
      default: true,
      doc:
        "with `REDIS_URL`, also count and judge each destination's sends in the fixed-window keys of the versions " +
        "before the sliding windows, so that old and new replicas see each other's sends during a rolling update and " +
        "the sends made before it still count after it (docs/deploying.md); may be set to `false` a day after the last " +
        "replica of such a version is gone, saving three Redis keys per destination and send",
    }),
  },
});

export function throttleConfig(v: ValuesOf<typeof throttleSettings>): ThrottleConfig {
  return {
    cooldownSeconds: v.OTP_COOLDOWN_SECONDS,
    destinationWindow: { points: v.OTP_WINDOW_MAX, seconds: v.OTP_WINDOW_SECONDS },
    destinationDaily: { points: v.OTP_DAILY_MAX, seconds: DEFAULT_OTP_DAILY.seconds },
    mobilePrefix: { points: v.OTP_PREFIX_MAX, seconds: v.OTP_PREFIX_WINDOW_SECONDS },
    ip: { points: v.OTP_IP_MAX, seconds: v.OTP_IP_WINDOW_SECONDS },
    client: { points: v.OTP_CLIENT_MAX, seconds: v.OTP_CLIENT_WINDOW_SECONDS },
    global: { points: v.OTP_GLOBAL_MAX, seconds: v.OTP_GLOBAL_WINDOW_SECONDS },
    verify: { points: v.OTP_VERIFY_MAX, seconds: v.OTP_VERIFY_WINDOW_SECONDS },
    verifyIp: { points: v.OTP_VERIFY_IP_MAX, seconds: v.OTP_VERIFY_IP_WINDOW_SECONDS },
    verifyClient: { points: v.OTP_VERIFY_CLIENT_MAX, seconds: v.OTP_VERIFY_CLIENT_WINDOW_SECONDS },
    registerIp: { points: v.REGISTER_IP_MAX, seconds: v.REGISTER_IP_WINDOW_SECONDS },
    registerClient: { points: v.REGISTER_CLIENT_MAX, seconds: v.REGISTER_CLIENT_WINDOW_SECONDS },
    readCibil: { points: v.READ_CIBIL_MAX, seconds: v.READ_CIBIL_WINDOW_SECONDS },
    readClient: { points: v.READ_CLIENT_MAX, seconds: v.READ_CLIENT_WINDOW_SECONDS },
    readIp: { points: v.READ_IP_MAX, seconds: v.READ_IP_WINDOW_SECONDS },
    legacyDestinationKeys: v.OTP_LEGACY_DESTINATION_KEYS,
  };
}
