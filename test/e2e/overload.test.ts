import { connect } from "node:net";
import { Client, request } from "undici";
import { hashApiKey } from "../../src/auth/authenticator";
import { json } from "../helpers/fake-upstream";
import { fixtureJson } from "../helpers/fixtures";
import { holdingUpstream, until } from "../helpers/holding-upstream";
import { nextAadhaar, nextAepsRegistration } from "../helpers/identifiers";
import { aepsInput, RESEND_AEPS_OTP, resultOf } from "../helpers/operations";
import { parseResponse, rawClient } from "../helpers/raw-http";
import { type GqlResponse, postGraphQL, stackOnFakeUpstream, type TestStack } from "../helpers/stack";

/**
 * Admission control (src/http/admission.ts) and the client-gone drop (src/aopay/transport.ts), against a scripted
 * upstream that holds every answer until the test lets it go: the requests in flight stay in flight for as long as
 * the test needs, so nothing here depends on timing.
 */

const AEPS_SUCCESS = fixtureJson("aeps/resend-otp.success");

async function scrape(t: TestStack): Promise<string> {
  const res = await request(t.stack.app.metricsUrl as string);
  return res.body.text();
}

function expectOverloaded(res: GqlResponse) {
  expect(res.status).toBe(503);
  expect(res.headers["retry-after"]).toBe("1");
  expect(res.body.errors).toHaveLength(1);
  expect(res.body.errors?.[0].extensions?.code).toBe("OVERLOADED");
  expect(res.body.errors?.[0].extensions?.requestId).toBe(res.headers["x-request-id"]);
  expect(res.body.data).toBeUndefined();
}

describe("admission: the in-flight cap", () => {
  const CAP = 3;
  // One client here: no share of its own (ADMISSION_MAX_IN_FLIGHT_PER_CLIENT, tested below), the cap alone.
  const ctx = stackOnFakeUpstream({
    env: { ADMISSION_MAX_IN_FLIGHT: String(CAP), ADMISSION_MAX_IN_FLIGHT_PER_CLIENT: "0" },
  });

  it("refuses the cap+1th request at once with 503 OVERLOADED and Retry-After, before authentication and parsing; the upstream sees only the admitted ones", async () => {
    const { upstream, t } = ctx;
    const hold = holdingUpstream(upstream);
    const admitted = Array.from({ length: CAP }, (_, i) => t.gql(RESEND_AEPS_OTP, aepsInput(`98765432${10 + i}`)));
    await until("the admitted sends to reach the upstream", () => upstream.calls.length === CAP);

    // While the CAP requests are held at the upstream: a well-formed send, one with bad credentials (401 if it were
    // authenticated) and one with a broken body (400 if it were parsed) are all refused the same way.
    expectOverloaded(await t.gql(RESEND_AEPS_OTP, aepsInput("9876543299")));
    expectOverloaded(await t.gql(RESEND_AEPS_OTP, aepsInput("9876543298"), { "x-api-key": "aopk_wrong" }));
    const broken = await request(t.graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{not json",
    });
    expect(broken.statusCode).toBe(503);
    expect(await broken.body.text()).toContain('"OVERLOADED"');
    // Health probes are not GraphQL requests: never refused.
    expect((await request(`${t.baseUrl}/healthz`)).statusCode).toBe(200);
    expect(hold.held).toHaveLength(CAP);
    expect(upstream.calls).toHaveLength(CAP);

    hold.release();
    for (const res of await Promise.all(admitted)) {
      expect(res.status).toBe(200);
      expect(resultOf(res.body, "resendAepsOtp").__typename).toBe("AepsOtpResent");
    }
    // Every admitted request has given its place back.
    const after = await t.gql(RESEND_AEPS_OTP, aepsInput("9876543297"));
    expect(resultOf(after.body, "resendAepsOtp").__typename).toBe("AepsOtpResent");
    expect(upstream.calls).toHaveLength(CAP + 1);
    expect(await scrape(t)).toMatch(/^graphql_requests_shed_total\{reason="in_flight"\} 3$/m);
  });
});

describe("admission: refusals answered at the socket", () => {
  const ctx = stackOnFakeUpstream({ env: { ADMISSION_MAX_IN_FLIGHT: "1" } });

  it("POST and GET /graphql are refused before Fastify: no access line each, one summary line with the count; other spellings meet the hook", async () => {
    const { upstream, t } = ctx;
    const hold = holdingUpstream(upstream);
    const admitted = t.gql(RESEND_AEPS_OTP, aepsInput("9876543210", { aadhaar: nextAadhaar() }));
    await until("the admitted send to reach the upstream", () => upstream.calls.length === 1);

    // The request id is ours, as on every other answer: a client's own UUID is not adopted (http/request-id.ts).
    const own = "0f038101-a5d9-4bd3-b25e-70a1aac05472";
    const refusals = [
      await t.gql(RESEND_AEPS_OTP, aepsInput("9876543211"), { "x-request-id": own }),
      await t.gql(RESEND_AEPS_OTP, aepsInput("9876543212"), { "x-request-id": "not-a-uuid 9876543212" }),
    ];
    refusals.forEach(expectOverloaded);
    expect(refusals[0].headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(refusals[0].headers["x-request-id"]).not.toBe(own);
    expect(refusals[1].headers["x-request-id"]).not.toContain("9876543212");
    const get = await request(`${t.graphqlUrl}?query=${encodeURIComponent("{ serviceInfo { upstream } }")}`);
    expect(get.statusCode).toBe(503);
    expect(get.headers["retry-after"]).toBe("1");
    expect(get.headers["content-type"]).toBe("application/json; charset=utf-8");
    const getBody = (await get.body.json()) as { errors: Array<{ extensions: { code: string; requestId: string } }> };
    expect(getBody.errors[0].extensions).toEqual({
      code: "OVERLOADED",
      requestId: get.headers["x-request-id"],
      retryAfterSeconds: 1,
    });
    // HEAD reaches Fastify's router (a route it derives from GET): refused there by the hook, same status and header.
    const head = await request(t.graphqlUrl, { method: "HEAD" });
    expect(head.statusCode).toBe(503);
    expect(head.headers["retry-after"]).toBe("1");
    await head.body.dump();

    // The requests refused at the socket left no access line; the one refused by the hook did.
    const ids = [...refusals.map((r) => r.headers["x-request-id"] as string), get.headers["x-request-id"] as string];
    for (const id of ids) expect(t.logs.raw()).not.toContain(id);
    expect(t.logs.raw()).toContain(head.headers["x-request-id"] as string);
    expect(await scrape(t)).toMatch(/^graphql_requests_shed_total\{reason="in_flight"\} 4$/m);

    hold.release();
    expect(resultOf((await admitted).body, "resendAepsOtp").__typename).toBe("AepsOtpResent");
    expect(upstream.calls).toHaveLength(1);
    // The count is logged at the latest when the server closes (else once per 10 s), without any client text.
    await t.stop();
    const summary = t.logs.records().filter((l) => /GraphQL requests refused with 503/.test(String(l.msg)));
    expect(summary).toHaveLength(1);
    expect(summary[0]).toMatchObject({ refused: 3, code: "OVERLOADED", level: "warn" });
    expect(t.logs.raw()).not.toContain("9876543212");
  });
});

describe("admission: a refused connection's next request is read in its turn", () => {
  // One refused connection read again per event-loop turn: the strictest setting.
  const ctx = stackOnFakeUpstream({ env: { ADMISSION_MAX_IN_FLIGHT: "1", ADMISSION_REFUSED_READS_PER_TURN: "1" } });

  it("8 kept-alive connections resending at once are each refused again and again on the same socket, then served", async () => {
    const { upstream, t } = ctx;
    const hold = holdingUpstream(upstream);
    const admitted = t.gql(RESEND_AEPS_OTP, aepsInput("9876543210", { aadhaar: nextAadhaar() }));
    await until("the admitted send to reach the upstream", () => upstream.calls.length === 1);

    const CLIENTS = 8;
    const ROUNDS = 4;
    const { origin } = new URL(t.baseUrl);
    const clients = Array.from({ length: CLIENTS }, () => new Client(origin, { pipelining: 1 }));
    let connects = 0;
    clients.forEach((c) => c.on("connect", () => (connects += 1)));
    const send = async (c: Client, i: number, round: number) => {
      const res = await c.request({
        path: "/graphql",
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: RESEND_AEPS_OTP, variables: aepsInput(`98765433${i}${round}`) }),
      });
      return { status: res.statusCode, text: await res.body.text() };
    };
    try {
      // Every client sends its next request as soon as its refusal arrives (no Retry-After wait), all at once.
      const refusals = await Promise.all(
        clients.map(async (c, i) => {
          const out = [];
          for (let round = 0; round < ROUNDS; round++) out.push(await send(c, i, round));
          return out;
        }),
      );
      for (const r of refusals.flat()) {
        expect(r.status).toBe(503);
        expect(r.text).toContain('"OVERLOADED"');
      }
      // Each kept its one connection: parked and read again, never closed.
      expect(connects).toBe(CLIENTS);
      expect(upstream.calls).toHaveLength(1);

      hold.release();
      expect(resultOf((await admitted).body, "resendAepsOtp").__typename).toBe("AepsOtpResent");
      // Their place free, each connection's next request is read and served.
      for (const [i, c] of clients.entries()) {
        const served = await send(c, i, ROUNDS);
        expect(served.status).toBe(200);
        expect(served.text).toContain('"AepsOtpResent"');
      }
      expect(connects).toBe(CLIENTS);
      expect(upstream.calls).toHaveLength(1 + CLIENTS);
      expect(await scrape(t)).toMatch(
        new RegExp(`^graphql_requests_shed_total\\{reason="in_flight"\\} ${CLIENTS * ROUNDS}$`, "m"),
      );
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });
});

/** Two tenants' API keys (development: a request without a key is `anonymous`, counted by its IP). */
const KEY_A = "aopk_tenant_a_0123456789abcdefghijklmnopqrstuvwxyzABC";
const KEY_B = "aopk_tenant_b_0123456789abcdefghijklmnopqrstuvwxyzABC";
const TWO_TENANTS = `tenant-a:${hashApiKey(KEY_A)},tenant-b:${hashApiKey(KEY_B)}`;

/** `promise`'s value if it settles within `ms`, else "still waiting" (a request held at the upstream). */
async function within<T>(promise: Promise<T>, ms = 2_000): Promise<T | "still waiting"> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"still waiting">((resolve) => (timer = setTimeout(() => resolve("still waiting"), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A send of its own (mobile, Aadhaar, registration): no budget of one send meets another's. */
const send = (i: number) =>
  aepsInput(`9${String(700_000_000 + i)}`, { ...nextAepsRegistration(), aadhaar: nextAadhaar() });

describe("admission: one client holds at most its share of the places (ADMISSION_MAX_IN_FLIGHT_PER_CLIENT)", () => {
  // The default share: half of the cap (2 of 4).
  const CAP = 4;
  const ctx = stackOnFakeUpstream({ env: { ADMISSION_MAX_IN_FLIGHT: String(CAP), API_KEYS: TWO_TENANTS } });

  it("key A flooding a slow upstream gets 2 places and 503 OVERLOADED beyond, on both HTTP layers; key B and an unauthenticated IP are served", async () => {
    const { upstream, t } = ctx;
    const hold = holdingUpstream(upstream);
    const a = { "x-api-key": KEY_A };
    try {
      const heldA = [t.gql(RESEND_AEPS_OTP, send(1), a), t.gql(RESEND_AEPS_OTP, send(2), a)];
      await until("A's first two sends to reach the upstream", () => upstream.calls.length === 2);
      // Before: A's third and fourth took the last two places and waited at the upstream with the others, and B was
      // refused 503 OVERLOADED until A's calls came back.
      const third = await within(t.gql(RESEND_AEPS_OTP, send(3), a));
      expect(third).not.toBe("still waiting");
      expectOverloaded(third as GqlResponse);
      expect((third as GqlResponse).body.errors?.[0].message).toMatch(/^This client has .* requests in progress/);
      // Its access line names the client (the runbook's RequestsShed: which one sends more than its share).
      const id = (third as GqlResponse).headers["x-request-id"];
      expect(t.logs.records().find((l) => l.requestId === id)).toMatchObject({ status: 503, clientId: "tenant-a" });
      // Fastify's route (a content type only it reads) takes places the same way.
      const viaFastify = await within(
        postGraphQL(t.graphqlUrl, JSON.stringify({ query: RESEND_AEPS_OTP, variables: send(4) }), {
          ...a,
          "content-type": "application/json; charset=UTF-8; profile=x",
        }),
      );
      expect(viaFastify).not.toBe("still waiting");
      expectOverloaded(viaFastify as GqlResponse);
      expect(upstream.calls).toHaveLength(2);
      // Refused as soon as it is authenticated, before its body is read, on both layers: A's request announcing a body
      // it never sends is answered at once. Before (the share checked only once the body had arrived): no answer until
      // the request timeout, every refusal paying for the body, its parsing and the document checks first.
      for (const contentType of ["application/json", "application/json; charset=UTF-8; profile=x"]) {
        const raw = await rawClient(t.graphqlUrl);
        raw.socket.write(
          `POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: ${contentType}\r\nx-api-key: ${KEY_A}\r\n` +
            "content-length: 500\r\n\r\n{",
        );
        await until(`a 503 before the body (${contentType})`, () => / 503 /.test(raw.received()));
        const answer = parseResponse(raw.received());
        expect(answer.headers["retry-after"]).toBe("1");
        expect(JSON.parse(answer.body).errors[0].message).toMatch(/^This client has .* requests in progress/);
        raw.socket.destroy();
      }
      expect(upstream.calls).toHaveLength(2);

      // Another tenant, and a client without a key (its IP), each find a place.
      const heldB = t.gql(RESEND_AEPS_OTP, send(5), { "x-api-key": KEY_B });
      await until("B's send to reach the upstream", () => upstream.calls.length === 3);
      const heldAnonymous = t.gql(RESEND_AEPS_OTP, send(6));
      await until("the unauthenticated send to reach the upstream", () => upstream.calls.length === 4);
      // The cap itself still holds: every place taken, B's next is refused as before.
      expectOverloaded(await t.gql(RESEND_AEPS_OTP, send(7), { "x-api-key": KEY_B }));
      const metrics = await scrape(t);
      expect(metrics).toMatch(/^graphql_requests_shed_total\{reason="client_share"\} 4$/m);
      expect(metrics).toMatch(/^graphql_requests_shed_total\{reason="in_flight"\} 1$/m);

      hold.release();
      for (const res of await Promise.all([...heldA, heldB, heldAnonymous]))
        expect(resultOf(res.body, "resendAepsOtp").__typename).toBe("AepsOtpResent");
      // Every place given back: A has its share again.
      const again = await Promise.all([t.gql(RESEND_AEPS_OTP, send(8), a), t.gql(RESEND_AEPS_OTP, send(9), a)]);
      for (const res of again) expect(resultOf(res.body, "resendAepsOtp").__typename).toBe("AepsOtpResent");
      expect(upstream.calls).toHaveLength(6);
    } finally {
      hold.release();
    }
  });
});

describe("admission: an unauthenticated client's share is its IP's", () => {
  const ctx = stackOnFakeUpstream({ env: { ADMISSION_MAX_IN_FLIGHT: "4", API_KEYS: TWO_TENANTS } });

  it("127.0.0.1 without a key flooding gets 2 places; 127.0.0.2 without a key and key B are served", async () => {
    const { upstream, t } = ctx;
    const hold = holdingUpstream(upstream);
    try {
      const held = [t.gql(RESEND_AEPS_OTP, send(11)), t.gql(RESEND_AEPS_OTP, send(12))];
      await until("the first IP's two sends to reach the upstream", () => upstream.calls.length === 2);
      const third = await within(t.gql(RESEND_AEPS_OTP, send(13)));
      expect(third).not.toBe("still waiting");
      expectOverloaded(third as GqlResponse);
      // Linux routes all of 127.0.0.0/8 to the loopback: a second machine, as the server sees it.
      const fromOtherIp = connect({
        port: Number(new URL(t.baseUrl).port),
        host: "127.0.0.1",
        localAddress: "127.0.0.2",
      });
      let answer = "";
      fromOtherIp.setEncoding("latin1").on("data", (chunk: string) => (answer += chunk));
      fromOtherIp.on("error", () => undefined);
      const body = JSON.stringify({ query: RESEND_AEPS_OTP, variables: send(14) });
      fromOtherIp.write(
        `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      await until("the other IP's send to reach the upstream", () => upstream.calls.length === 3);
      const heldB = t.gql(RESEND_AEPS_OTP, send(15), { "x-api-key": KEY_B });
      await until("B's send to reach the upstream", () => upstream.calls.length === 4);
      hold.release();
      for (const res of await Promise.all([...held, heldB]))
        expect(resultOf(res.body, "resendAepsOtp").__typename).toBe("AepsOtpResent");
      await until("the other IP's answer", () => answer.includes('"AepsOtpResent"'));
      fromOtherIp.destroy();
    } finally {
      hold.release();
    }
  });
});

describe("admission: a client's places are given back when it goes away", () => {
  const ctx = stackOnFakeUpstream({ env: { ADMISSION_MAX_IN_FLIGHT: "4", API_KEYS: TWO_TENANTS } });

  it("A's two held requests aborted by their client: A is admitted again at once, its calls still held upstream", async () => {
    const { upstream, t } = ctx;
    const hold = holdingUpstream(upstream);
    const { port } = new URL(t.baseUrl);
    try {
      const sockets = [21, 22].map((i) => {
        const body = JSON.stringify({ query: RESEND_AEPS_OTP, variables: send(i) });
        const socket = connect(Number(port), "127.0.0.1");
        socket.on("error", () => undefined);
        socket.write(
          `POST /graphql HTTP/1.1\r\nHost: x\r\nx-api-key: ${KEY_A}\r\nContent-Type: application/json\r\n` +
            `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        );
        return socket;
      });
      await until("A's two sends to reach the upstream", () => upstream.calls.length === 2);
      const refused = await within(t.gql(RESEND_AEPS_OTP, send(23), { "x-api-key": KEY_A }));
      expect(refused).not.toBe("still waiting");
      expectOverloaded(refused as GqlResponse);

      // Its client hangs up: the calls stay at the upstream (an OTP send that left is never abandoned), the places go.
      const connections = () =>
        new Promise<number>((resolve) => t.stack.app.fastify.server.getConnections((_e, n) => resolve(n)));
      const before = await connections();
      for (const socket of sockets) socket.destroy();
      for (let i = 0; i < 200 && (await connections()) > before - 2; i++) await new Promise((r) => setTimeout(r, 10));
      expect(await connections()).toBe(before - 2);
      const again = [
        t.gql(RESEND_AEPS_OTP, send(24), { "x-api-key": KEY_A }),
        t.gql(RESEND_AEPS_OTP, send(25), { "x-api-key": KEY_A }),
      ];
      await until("A's next two sends to reach the upstream", () => upstream.calls.length === 4);
      hold.release();
      for (const res of await Promise.all(again))
        expect(resultOf(res.body, "resendAepsOtp").__typename).toBe("AepsOtpResent");
    } finally {
      hold.release();
    }
  });
});

describe("admission: the event-loop delay", () => {
  const ctx = stackOnFakeUpstream({
    env: { ADMISSION_MAX_EVENT_LOOP_DELAY_MS: "20", ADMISSION_SAMPLE_INTERVAL_MS: "100" },
    answer: json(200, AEPS_SUCCESS),
  });

  it("refuses while the event loop is late, and serves again once it has caught up", async () => {
    const { upstream, t } = ctx;
    // The server runs in this process: blocking this thread delays its event loop. One 600 ms sample among the
    // ~50 ms ones (EVENT_LOOP_SAMPLING_MS) of the interval before it puts the mean far over 20 ms. A busy machine can
    // only add delay, but it can also hold a request back past the one interval the late reading lasts. Up to 8
    // attempts, each one block. (About 1 run in 10 once saw no refusal in all 8: the histogram's reset forgot the block
    // that began right after a reading, admission.ts; test/unit/http/admission-delay.test.ts holds that.)
    let refused: GqlResponse | undefined;
    let servedBefore = 0;
    for (let attempt = 0; attempt < 8 && !refused; attempt++) {
      const end = Date.now() + 600;
      while (Date.now() < end) {
        // busy: the sampler cannot run
      }
      // The late sample lands in the sampler's reading either at its first run after the block or at the next one
      // (100 ms later), depending on whether the histogram's own timer or the sampler runs first in that timers phase;
      // the reading then holds for one interval. So send a few requests over the next 300 ms, each after one timers
      // phase has run (libuv can read a request that arrives right after the block before any timer), and stop at
      // the first refusal. A fresh destination each time: every admitted one reaches the upstream.
      const until = Date.now() + 300;
      for (let i = 0; !refused && Date.now() < until; i++) {
        await new Promise((r) => setTimeout(r, i === 0 ? 0 : 25));
        // Its own number range too (the first six digits have a budget of their own).
        const mobile = `9${String(100_000 + attempt * 100 + i)}321`;
        const res = await t.gql(RESEND_AEPS_OTP, aepsInput(mobile, { aadhaar: nextAadhaar() }));
        if (res.status === 503) refused = res;
        else servedBefore += 1;
      }
    }
    expect(refused).toBeDefined();
    expectOverloaded(refused as GqlResponse);
    // Only the attempts that were let in reached the upstream (a busy machine may have let the first through).
    expect(upstream.calls).toHaveLength(servedBefore);
    expect(await scrape(t)).toMatch(/^graphql_requests_shed_total\{reason="event_loop_delay"\} [1-3]$/m);

    // A few quiet samples later it admits again.
    let served: GqlResponse | undefined;
    for (let attempt = 0; attempt < 50 && !served; attempt++) {
      await new Promise((r) => setTimeout(r, 100));
      const res = await t.gql(RESEND_AEPS_OTP, aepsInput("9876543202", { aadhaar: nextAadhaar() }));
      if (res.status === 200) served = res;
    }
    expect(resultOf((served as GqlResponse).body, "resendAepsOtp").__typename).toBe("AepsOtpResent");
  });
});

describe("a send whose client has gone before its upstream write", () => {
  // One upstream socket: a second send waits in the transport's queue, which is where a client gives up under load.
  // A 10-minute cooldown per destination: a send that went (or was not refunded) blocks the next one.
  const ctx = stackOnFakeUpstream({ env: { AOPAY_CONNECTIONS: "1", OTP_COOLDOWN_SECONDS: "600" } });

  it("is dropped before the write (never reaches the upstream) and its budget is refunded; the one already sent is not", async () => {
    const { upstream, t } = ctx;
    const hold = holdingUpstream(upstream);
    // Each send its own destinations (mobile, Aadhaar, user key and references): the cooldown applies to all.
    const firstInput = aepsInput("9123456780", { ...nextAepsRegistration(), aadhaar: nextAadhaar() });
    const secondInput = aepsInput("9123456781", { ...nextAepsRegistration(), aadhaar: nextAadhaar() });
    const first = t.gql(RESEND_AEPS_OTP, firstInput);
    await until("the first send to reach the upstream", () => upstream.calls.length === 1);

    // The second client writes its request on a socket of its own, then goes away (closes it) while the send waits.
    const body = JSON.stringify({ query: RESEND_AEPS_OTP, variables: secondInput });
    const { port } = new URL(t.baseUrl);
    const socket = connect(Number(port), "127.0.0.1");
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    socket.write(
      `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    await until("the second send to wait for the upstream socket", () => t.stack.app.transport.stats.queued === 1);
    socket.destroy();
    // Its connection closes at the server (the first request's stays open, held at the upstream).
    const connections = () =>
      new Promise<number>((resolve) => t.stack.app.fastify.server.getConnections((_e, n) => resolve(n)));
    for (let i = 0; i < 200 && (await connections()) > 1; i++) await new Promise((r) => setTimeout(r, 10));
    expect(await connections()).toBe(1);

    // The socket frees: the queued send would go now, but its client is gone.
    hold.release();
    expect(resultOf((await first).body, "resendAepsOtp").__typename).toBe("AepsOtpResent");
    await until("the dropped send to be logged", () =>
      t.logs.text().includes("client gone before the request was sent"),
    );
    expect(upstream.calls).toHaveLength(1);
    expect(JSON.parse(upstream.calls[0].body)).toMatchObject({ Mobile: 9123456780 });

    // Refunded: the same destination may be sent to at once. The first one's cooldown holds.
    const again = await t.gql(RESEND_AEPS_OTP, secondInput);
    expect(resultOf(again.body, "resendAepsOtp").__typename).toBe("AepsOtpResent");
    const firstAgain = await t.gql(RESEND_AEPS_OTP, firstInput);
    expect(resultOf(firstAgain.body, "resendAepsOtp")).toMatchObject({
      __typename: "OtpThrottled",
      code: "OTP_COOLDOWN",
    });
    expect(upstream.calls).toHaveLength(2);
  });
});
