import { loadConfig } from "../../../src/config";
import { createCors, REFUSED_ORIGIN_WARNINGS_PER_INTERVAL, REFUSED_ORIGINS_REMEMBERED } from "../../../src/http/cors";
import { createLogger } from "../../../src/logging/logger";
import { SUMMARY_INTERVAL_MS } from "../../../src/logging/summarised";
import { LogCapture } from "../../helpers/log-capture";

/** The refused-origin warning (http/cors.ts warnOnce), on a clock of the test's own. */
describe("refused-origin warnings", () => {
  const setup = () => {
    const logs = new LogCapture();
    let now = 1_000;
    const cors = createCors(
      loadConfig({ NODE_ENV: "test" }),
      createLogger({ level: "info", destination: logs }),
      () => now,
    );
    const warn = (origin: string) => cors.warnOnce(origin, "api.example", () => "https");
    const warnings = () => logs.records().filter((r) => String(r.msg).startsWith("CORS: refused"));
    return { warn, warnings, later: (ms: number) => (now += ms) };
  };

  it(`names each origin once, at most ${REFUSED_ORIGIN_WARNINGS_PER_INTERVAL} per interval; the next line counts the rest, which are named when they come again`, () => {
    const { warn, warnings, later } = setup();
    for (let i = 0; i < 25; i++) warn(`https://o${i}.example`);
    expect(warnings()).toHaveLength(REFUSED_ORIGIN_WARNINGS_PER_INTERVAL);
    warn("https://o0.example");
    expect(warnings()).toHaveLength(REFUSED_ORIGIN_WARNINGS_PER_INTERVAL);
    later(SUMMARY_INTERVAL_MS);
    warn("https://o24.example");
    expect(warnings().at(-1)).toMatchObject({ origin: "https://o24.example", suppressed: 15 });
  });

  it(`remembers at most ${REFUSED_ORIGINS_REMEMBERED} refused origins: an old one is logged again once that many others came after it`, () => {
    const { warn, warnings, later } = setup();
    warn("https://first.example");
    for (let i = 0; i < REFUSED_ORIGINS_REMEMBERED; i++) {
      if (i % REFUSED_ORIGIN_WARNINGS_PER_INTERVAL === 0) later(SUMMARY_INTERVAL_MS);
      warn(`https://o${i}.example`);
    }
    expect(warnings()).toHaveLength(REFUSED_ORIGINS_REMEMBERED + 1);
    later(SUMMARY_INTERVAL_MS);
    warn("https://first.example");
    expect(warnings().at(-1)?.origin).toBe("https://first.example");
    expect(warnings().every((r) => r.suppressed === undefined)).toBe(true);
  });
});
