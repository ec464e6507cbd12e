// The bench's overload scenario reads our server's nodejs_eventloop_lag_* and subtracts their sampling period
// (bench/lib/overload.js); the bench does not load the server's code, so it names the period itself. Held equal here:
// a server sampling every 50 ms read as if every 10 ms would report 40 ms of delay that is not there.
import { EVENT_LOOP_SAMPLING_MS } from "../../../src/http/admission.settings";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { PROM_LAG_RESOLUTION_MS } = require("../../../bench/lib/overload") as { PROM_LAG_RESOLUTION_MS: number };

describe("event-loop sampling period", () => {
  it("is the same in the bench's lag reading as in the server", () => {
    expect(PROM_LAG_RESOLUTION_MS).toBe(EVENT_LOOP_SAMPLING_MS);
  });
});
