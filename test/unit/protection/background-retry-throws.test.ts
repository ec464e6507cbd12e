import { createLogger } from "../../../src/logging/logger";
import { HeldConsentStore } from "../../../src/protection/consent-store";
import { ProtectionStoreError } from "../../../src/protection/errors";
import { LogCapture } from "../../helpers/log-capture";

/**
 * A throw in what a background store retry does at its end (a held consent's give-up: its counter, its line) was an
 * unhandled rejection, which ends the server (early-faults.ts), every request in flight with it. It is logged once
 * (store-failure.ts settled), its error's name only, and the process goes on.
 */
it("a held consent's give-up whose counter throws: one error line, no unhandled rejection", async () => {
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);
  process.on("unhandledRejection", onRejection);
  const logs = new LogCapture();
  try {
    const held = new HeldConsentStore(
      {
        grant: () => Promise.reject(new ProtectionStoreError("consent", new Error("refused"))),
        has: async () => false,
      },
      createLogger({ level: "info", destination: logs }),
      {
        retryMs: 300,
        unrecorded: () => {
          throw new RangeError("counter broke: customer 9876543210");
        },
      },
    );
    await held.grant("first", 60_000);
    await held.grant("second", 60_000);
    await new Promise((r) => setTimeout(r, 1_200));
    expect(rejections).toEqual([]);
    const threw = logs.records().filter((r) => /^background .* retry threw/.test(String(r.msg)));
    expect(threw.map((r) => [r.level, r.retry, r.err])).toEqual([["error", "consent", { name: "RangeError" }]]);
    expect(logs.text()).not.toContain("9876543210");
    // Still held by this process: the throw came after the hold was decided.
    expect(await held.has("first")).toBe(true);
    held.close();
  } finally {
    process.off("unhandledRejection", onRejection);
  }
});
