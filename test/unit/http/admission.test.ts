import { EventEmitter } from "node:events";
import type { ServerResponse } from "node:http";
import { Admission } from "../../../src/http/admission";

/** A response as Admission sees it: something that closes. */
const response = () => new EventEmitter() as unknown as ServerResponse;

describe("admission: places per client (ADMISSION_MAX_IN_FLIGHT_PER_CLIENT)", () => {
  const config = {
    maxInFlight: 4,
    maxInFlightPerClient: 2,
    maxEventLoopDelayMs: 0,
    sampleIntervalMs: 500,
    retryAfterSeconds: 1,
    refusedReadsPerTurn: 0,
  };

  it("a client's third place is refused as client_share; each place goes back once, answered or closed, whichever first", () => {
    const shed: string[] = [];
    const admission = new Admission(config, (reason) => shed.push(reason));
    const [a1, a2, a3, b1] = [response(), response(), response(), response()];
    expect(admission.take(a1, "a")).toBeNull();
    expect(admission.take(a2, "a")).toBeNull();
    expect(admission.take(a3, "a")).toBe("client_share");
    expect(admission.take(b1, "b")).toBeNull();
    expect(shed).toEqual(["client_share"]);
    expect([admission.inFlight, admission.heldBy("a"), admission.heldBy("b")]).toEqual([3, 2, 1]);

    // Answered, then closed: given back once.
    admission.answered(a1);
    a1.emit("close");
    // Closed first (its client gone), then an answer attempted: once too.
    a2.emit("close");
    admission.answered(a2);
    // A refused request holds nothing to give back.
    admission.answered(a3);
    a3.emit("close");
    b1.emit("close");
    expect([admission.inFlight, admission.heldBy("a"), admission.heldBy("b")]).toEqual([0, 0, 0]);
    admission.close();
  });

  it("0: no per-client cap, only the total", () => {
    const admission = new Admission({ ...config, maxInFlightPerClient: 0 });
    const taken = Array.from({ length: 5 }, () => admission.take(response(), "a"));
    expect(taken).toEqual([null, null, null, null, "in_flight"]);
    admission.close();
  });
});

describe("admission: the event-loop delay is read without a timer of its own", () => {
  afterEach(() => jest.useRealTimers());

  it("with ADMISSION_MAX_EVENT_LOOP_DELAY_MS on, the only timer is the shared sampler's; a reading every interval", () => {
    // Each timer wakes an idle server: admission's own, every 500 ms, was 2 of its 24 wake-ups per second. Its readings
    // are taken on the sampler's ticks instead (EventLoopSampler.onTick).
    jest.useFakeTimers();
    const admission = new Admission({
      maxInFlight: 0,
      maxInFlightPerClient: 0,
      maxEventLoopDelayMs: 1_000,
      sampleIntervalMs: 500,
      retryAfterSeconds: 1,
      refusedReadsPerTurn: 0,
    });
    try {
      expect(jest.getTimerCount()).toBe(1);
      // Fake time passes exactly: every tick on time, no delay read, nothing refused.
      jest.advanceTimersByTime(5_000);
      expect(admission.admit()).toBeNull();
      admission.release();
    } finally {
      admission.close();
    }
    expect(jest.getTimerCount()).toBe(0);
  });
});
