import { connect } from "node:net";
import { holdingUpstream, until } from "../helpers/holding-upstream";
import { aepsInput, RESEND_AEPS_OTP } from "../helpers/operations";
import { rawClient } from "../helpers/raw-http";
import { startStackOnFakeUpstream } from "../helpers/stack";

/** A pipelinable OTP send (ResendAepsOtp) to `mobile` at `path`, as raw HTTP/1.1. */
function resend(mobile: string, path = "/graphql"): string {
  const body = JSON.stringify({ query: RESEND_AEPS_OTP, variables: aepsInput(mobile) });
  return (
    `POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

interface Response {
  status: number;
  /** The head's lines after the status line, lower-cased. */
  head: string;
  body: string;
}

/** Every HTTP/1.1 response in `raw` (latin1) that arrived whole, and how many bytes follow them (one cut short). */
function responses(raw: string): { whole: Response[]; cutBytes: number } {
  const whole: Response[] = [];
  let at = 0;
  for (;;) {
    const headEnd = raw.indexOf("\r\n\r\n", at);
    if (headEnd < 0) break;
    const head = raw.slice(at, headEnd).toLowerCase();
    const length = /\r\ncontent-length: *(\d+)/.exec(head);
    const end = headEnd + 4 + Number(length?.[1] ?? Number.NaN);
    if (!(end <= raw.length)) break;
    whole.push({ status: Number(raw.slice(at + 9, at + 12)), head, body: raw.slice(headEnd + 4, end) });
    at = end;
  }
  return { whole, cutBytes: raw.length - at };
}

const asksToClose = (r: Response) => /\r\nconnection: close(\r\n|$)/.test(r.head);

/** Whether a new TCP connection to `baseUrl` is refused now (the listener closed). */
function refused(baseUrl: string): Promise<boolean> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.once("connect", () => (socket.destroy(), resolve(false)));
    socket.once("error", (e: NodeJS.ErrnoException) => resolve(e.code === "ECONNREFUSED"));
  });
}

/**
 * SHUTDOWN_DELAY_MS, then the drain, with pipelined OTP sends on kept-alive connections throughout (src/index.ts:
 * leaveRotation at the signal, then stop() once the delay is over). Requests already read run (their OTP goes out), and
 * their answers are queued on their connection in order: an answer that asks to close ends the connection once
 * written, so only the last one read may ask (src/http/http-server.ts closesConnections), or those behind are lost,
 * their clients told nothing (RFC 9112 §9.3.2 lets them send again: a second SMS). The pre-stop delay and the drain:
 * docs/operations.md "Readiness and shutdown".
 */
describe("SHUTDOWN_DELAY_MS, then the drain, with pipelined OTP sends", () => {
  it.each([
    ["the thin route", "/graphql", 6],
    ["Fastify", "/graphql?", 0],
  ])(
    "(%s) answers every request read, each sent upstream once; only the last answer on a connection asks to close; a request during the drain is refused 503 with Retry-After, sending nothing",
    async (_layer, path, thinServed) => {
      const send = (mobile: string) => resend(mobile, path);
      const { upstream, t, stop } = await startStackOnFakeUpstream({
        env: { SHUTDOWN_GRACE_MS: "20000", ADMISSION_RETRY_AFTER_SECONDS: "2" },
      });
      // Every send held upstream until released: in flight for as long as the test needs, whatever the machine's speed.
      const hold = holdingUpstream(upstream);
      const sends = () => upstream.calls.filter((c) => c.method === "POST").length;
      // Requests the server has read (its request event), of every connection.
      let read = 0;
      t.stack.app.fastify.server.prependListener("request", () => (read += 1));
      try {
        // Before the signal: two sends pipelined on one kept-alive connection, both read and sent upstream.
        const kept = await rawClient(t.baseUrl);
        kept.socket.write(send("9876543201") + send("9876543202"));
        await until("two sends upstream", () => sends() === 2);

        // The signal with SHUTDOWN_DELAY_MS (index.ts): still serving. Two more on the same connection, and two
        // pipelined on a NEW connection (what a load balancer not yet caught up opens): all read and sent upstream.
        t.stack.app.leaveRotation();
        kept.socket.write(send("9876543203") + send("9876543204"));
        const fresh = await rawClient(t.baseUrl);
        fresh.socket.write(send("9876543205") + send("9876543206"));
        await until("six sends upstream", () => sends() === 6);

        // The delay is over: the drain. The listener closes (a new connection refused), the held sends go on.
        const stopped = t.stop();
        for (let i = 0; !(await refused(t.baseUrl)); i++) {
          if (i > 500) throw new Error("the listener still accepted connections after 5 s of the drain");
          await new Promise((r) => setTimeout(r, 10));
        }
        // A request arriving during the drain on the kept-alive connection (kept open by its answers in flight): read,
        // refused before any work, queued behind the four answers.
        kept.socket.write(send("9876543207"));
        await until("the request of the drain read", () => read === 7);
        hold.release();
        await Promise.all([kept.closed, fresh.closed]);
        await stopped;

        // The kept-alive connection: four answers in the order sent, then the drain's 503; nothing cut.
        const onKept = responses(kept.received());
        expect(onKept.cutBytes).toBe(0);
        expect(onKept.whole.map((r) => r.status)).toEqual([200, 200, 200, 200, 503]);
        for (const r of onKept.whole.slice(0, 4))
          expect(JSON.parse(r.body)).toMatchObject({ data: { resendAepsOtp: { __typename: "AepsOtpResent" } } });
        expect(onKept.whole.map(asksToClose)).toEqual([false, false, false, false, true]);
        const refusal = onKept.whole[4]!;
        expect(refusal.head).toMatch(/\r\nretry-after: 2\r\n/);
        expect(JSON.parse(refusal.body)).toMatchObject({
          errors: [{ extensions: { code: "SERVICE_UNAVAILABLE", retryAfterSeconds: 2 } }],
        });
        // The new connection of the delay: both answered, the last asks to close.
        const onFresh = responses(fresh.received());
        expect(onFresh.cutBytes).toBe(0);
        expect(onFresh.whole.map((r) => [r.status, asksToClose(r)])).toEqual([
          [200, false],
          [200, true],
        ]);
        // One send upstream per send read and run, none for the refused one, none again.
        expect(sends()).toBe(6);
        const mobiles = upstream.calls.map((c) => /98765432\d\d/.exec(c.body)?.[0]);
        expect(mobiles.sort()).toEqual([
          "9876543201",
          "9876543202",
          "9876543203",
          "9876543204",
          "9876543205",
          "9876543206",
        ]);
        expect(t.logs.records().some((r) => String(r.msg).includes("grace period over"))).toBe(false);
        expect(t.stack.app.thinGraphQLServed).toBe(thinServed);
      } finally {
        hold.release();
        await stop();
      }
    },
  );

  it("a send whose client hangs up as it is read, during the delay and the drain, faults nothing and is sent once", async () => {
    // The answer's `Connection: close` reads the last request of its socket (http-server.ts lastRequest, a WeakMap by
    // socket): a request whose socket is destroyed before its answer must neither throw there nor hold the drain.
    const { upstream, t, stop } = await startStackOnFakeUpstream({ env: { SHUTDOWN_GRACE_MS: "20000" } });
    const hold = holdingUpstream(upstream);
    const sends = () => upstream.calls.filter((c) => c.method === "POST").length;
    const hangUp = async (mobile: string) => {
      const client = await rawClient(t.baseUrl);
      // Destroyed once written: the server reads the request from a socket already closed.
      client.socket.write(resend(mobile), () => client.socket.destroy());
    };
    let read = 0;
    t.stack.app.fastify.server.prependListener("request", () => (read += 1));
    try {
      // A kept-alive connection whose send is held keeps the drain going while the others hang up.
      const kept = await rawClient(t.baseUrl);
      kept.socket.write(resend("9876543210"));
      await until("the held send upstream", () => sends() === 1);
      t.stack.app.leaveRotation();
      for (let i = 0; i < 5; i++) await hangUp(`98765432${20 + i}`);
      await until("the requests of the delay read", () => read === 6);
      const stopped = t.stop();
      hold.release();
      await kept.closed;
      await stopped;
      expect(responses(kept.received()).whole.map((r) => [r.status, asksToClose(r)])).toEqual([[200, true]]);
      const mobiles = upstream.calls.map((c) => /98765432\d\d/.exec(c.body)?.[0]);
      expect(new Set(mobiles).size).toBe(mobiles.length);
      expect(t.logs.records().filter((r) => Number(r.level) >= 50 || r.level === "error")).toEqual([]);
      expect(t.logs.records().some((r) => String(r.msg).includes("grace period over"))).toBe(false);
    } finally {
      hold.release();
      await stop();
    }
  });
});
