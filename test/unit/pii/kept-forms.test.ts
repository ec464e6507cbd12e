import { KEPT_FORMS, MASKED_LOOK_ALIKES } from "../../../src/pii/kept-forms";
import { keptAopayReference, Scrubber } from "../../../src/pii/scrub";
import { everyExit } from "../../helpers/every-exit";

/**
 * The one table of forms kept in clear on purpose (src/pii/kept-forms.ts), read through every exit (everyExit): a row
 * kept at every exit is kept by each but the exits it names as stricter; a row kept in its own place alone (a log
 * line's own key, outcome.ts's reference field) is masked by every exit in any other text, and kept there. A look-alike
 * decided masked (a dotted quad of an Aadhaar number's shape) is masked by every exit.
 */
const scrubber = new Scrubber(["AOP-554"]);
const EXITS = everyExit(scrubber);
const wrapped = (example: string) => `seen ${example} here`;
/** What an exit shows of the example, in the text it was given in (the development message quotes it). */
const keeps = (shown: string, example: string) => shown.includes(example);

describe("the forms kept in clear on purpose, one table for every exit", () => {
  it.each(KEPT_FORMS.map((row) => [row.kind, row] as const))("%s", (_kind, row) => {
    for (const name of row.maskedBy) expect(Object.keys(EXITS)).toContain(name);
    const kept: string[] = [];
    const masked: string[] = [];
    for (const [name, exit] of Object.entries(EXITS))
      (keeps(exit(wrapped(row.example)), row.example) ? kept : masked).push(name);
    if (row.keptAt === "every exit") expect(masked.sort()).toEqual([...row.maskedBy].sort());
    else expect(kept).toEqual([]);
  });

  it("AOPay's reference is kept in its own place: the log line's own key, and the client's reference field", () => {
    const reference = "SPCBL2308181506522334ZiSHM7bAe";
    expect(keptAopayReference(reference)).toBe(true);
    const line = JSON.stringify({ level: "info", time: 1796392274221, merchantTransactionId: reference, msg: "ok" });
    expect(scrubber.scrubLine(line)).toBe(line);
  });

  it("a log line's own epoch time is kept there", () => {
    const line = JSON.stringify({ level: "info", time: 1796392274221, msg: "ok" });
    expect(scrubber.scrubLine(line)).toBe(line);
  });

  it.each(MASKED_LOOK_ALIKES.map((row) => [row.kind, row.example] as const))("%s: masked at every exit", (_k, ex) => {
    const shown = Object.entries(EXITS)
      .filter(([, exit]) =>
        exit(wrapped(ex))
          .replace(/[^0-9]/g, "")
          .includes(ex.replace(/[^0-9]/g, "")),
      )
      .map(([name]) => name);
    expect(shown).toEqual([]);
  });
});
