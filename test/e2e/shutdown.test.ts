import { connect, type Socket } from "node:net";
import { Agent, request } from "undici";
import { cibilInput, GENERATE_CIBIL_OTP, resultOf } from "../helpers/operations";
import { startTestStack } from "../helpers/stack";

/** A raw TCP connection to the server that sends nothing: what browsers and undici open ahead of need. */
async function spareConnection(baseUrl: string): Promise<{ socket: Socket; closed: Promise<number> }> {
  const { hostname, port } = new URL(baseUrl);
  const socket = connect({ host: hostname, port: Number(port) });
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  const closed = new Promise<number>((resolve) => socket.once("close", () => resolve(Date.now())));
  socket.on("error", () => undefined);
  return { socket, closed };
}

describe("graceful stop", () => {
  it("closes spare and idle keep-alive connections at once, and lets the in-flight mutation finish with Connection: close", async () => {
    const t = await startTestStack({ SHUTDOWN_GRACE_MS: "10000" });
    // Keep-alive long enough that only the server closing the socket can end it within the test.
    const agent = new Agent({ keepAliveTimeout: 60_000, keepAliveMaxTimeout: 60_000 });
    const other = new Agent();
    try {
      const idle = await request(`${t.baseUrl}/healthz`, { dispatcher: agent });
      await idle.body.text();
      const spare = await spareConnection(t.baseUrl);

      // Scenario 888: the simulator answers after 2 s, so the mutation is in flight when stop() begins.
      const inFlight = request(t.graphqlUrl, {
        method: "POST",
        dispatcher: other,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: GENERATE_CIBIL_OTP, variables: cibilInput("102277888") }),
      });
      await new Promise((resolve) => setTimeout(resolve, 200));

      const began = Date.now();
      const stopped = t.stop();
      const spareClosedAt = await spare.closed;
      const res = await inFlight;
      const body = (await res.body.json()) as { data?: Record<string, unknown> | null };
      await stopped;

      // Before the sweep, the spare connection held the listener open until the client gave up on it.
      expect(spareClosedAt - began).toBeLessThan(1_000);
      expect(res.statusCode).toBe(200);
      expect(res.headers.connection).toBe("close");
      expect(resultOf(body, "generateCibilOtp").__typename).toBe("CibilOtpChallenge");
      const complete = t.logs.records().find((r) => r.msg === "shutdown complete");
      // The listener closed as soon as the only response left was the in-flight one (well under the 2 s it took).
      expect(complete?.httpClosedMs as number).toBeLessThan(2_500);
      expect(complete?.totalMs as number).toBeLessThan(5_000);
      expect(t.logs.records().some((r) => String(r.msg).includes("grace period over"))).toBe(false);
    } finally {
      await t.stop();
      await Promise.all([agent.close(), other.close()]);
    }
  });

  it("closes a spare connection and an idle keep-alive one left by an aborted request without waiting for them", async () => {
    const t = await startTestStack({ SHUTDOWN_GRACE_MS: "10000" });
    const agent = new Agent({ keepAliveTimeout: 60_000, keepAliveMaxTimeout: 60_000 });
    try {
      const aborted = new AbortController();
      const pending = request(t.graphqlUrl, {
        method: "POST",
        dispatcher: agent,
        signal: aborted.signal,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: GENERATE_CIBIL_OTP, variables: cibilInput("102277888") }),
      }).catch((error: unknown) => error);
      setTimeout(() => aborted.abort(), 200);
      expect((await pending) as Error).toMatchObject({ name: "AbortError" });
      const after = await request(`${t.baseUrl}/healthz`, { dispatcher: agent });
      await after.body.text();
      const spare = await spareConnection(t.baseUrl);

      await t.stop();
      await spare.closed;
      const complete = t.logs.records().find((r) => r.msg === "shutdown complete");
      // The HTTP side closes at once; what remains is the upstream call the aborted request had already sent, which
      // is allowed to finish (its outcome is recorded, so a retry by the client is answered, not sent again).
      expect(complete?.httpClosedMs as number).toBeLessThan(500);
    } finally {
      await t.stop();
      await agent.close();
    }
  });
});
