import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { connect, createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { RefusedReads } from "../../../src/http/refused-reads";
import { until } from "../../helpers/holding-upstream";

/**
 * RefusedReads (src/http/refused-reads.ts) on real loopback sockets: a parked connection's bytes stay in the kernel
 * until its turn. The turns are held by the test (its own scheduler) except where the default, setImmediate, is the
 * point.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const reading = (s: Socket) => (s as Socket & { _handle?: { reading?: boolean } | null })._handle?.reading === true;

async function listen(server: Server | HttpServer): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return (server.address() as AddressInfo).port;
}

/** Turns kept for the test to run one at a time. */
function heldTurns() {
  const turns: Array<() => void> = [];
  return {
    turns,
    schedule: (turn: () => void) => void turns.push(turn),
    runOne() {
      const turn = turns.shift();
      if (!turn) throw new Error("no turn scheduled");
      turn();
    },
  };
}

describe("RefusedReads: an HTTP server's connection (its bytes consumed by Node's parser)", () => {
  let server: HttpServer;
  let client: Socket | undefined;
  afterEach(async () => {
    client?.destroy();
    await new Promise((r) => server.close(r));
  });

  it("does not read the next request of a refused connection before its turn, and reads it then", async () => {
    const held = heldTurns();
    const reads = new RefusedReads(100, held.schedule);
    const seen: string[] = [];
    server = createHttpServer((req, res) => {
      seen.push(req.url ?? "");
      res.writeHead(503, { "content-length": "0" });
      res.end();
      reads.park(req.socket);
    });
    const port = await listen(server);
    client = connect(port, "127.0.0.1");
    let received = "";
    client.on("data", (b: Buffer) => (received += b.toString("latin1")));
    const answers = () => received.split("HTTP/1.1 503").length - 1;

    client.write("GET /first HTTP/1.1\r\nHost: x\r\n\r\n");
    await until("the first answer", () => answers() === 1);
    expect(held.turns).toHaveLength(1);
    client.write("GET /second HTTP/1.1\r\nHost: x\r\n\r\n");
    // socket.pause() would not hold this: the parser reads the handle itself (the reason for the handle calls).
    await sleep(100);
    expect(seen).toEqual(["/first"]);
    expect(reads.waiting).toBe(1);

    held.runOne();
    await until("the second answer", () => answers() === 2);
    expect(seen).toEqual(["/first", "/second"]);
    // Parked again after the second refusal: waiting for a new turn.
    expect(reads.waiting).toBe(1);
    expect(held.turns).toHaveLength(1);
  });
});

describe("RefusedReads: turns", () => {
  let server: Server;
  let clients: Socket[] = [];
  /** The server's side of each client socket, by the client's index. */
  let accepted: Socket[] = [];
  let got: string[] = [];

  beforeEach(async () => {
    got = [];
    const byPort = new Map<number, Socket>();
    server = createServer((s) => {
      byPort.set(s.remotePort as number, s);
      s.on("data", (b: Buffer) => got.push(b.toString()));
      s.on("error", () => undefined);
    });
    const port = await listen(server);
    clients = [];
    for (let i = 0; i < 5; i++) {
      const c = connect(port, "127.0.0.1");
      c.on("error", () => undefined);
      await new Promise<void>((resolve) => c.once("connect", () => resolve()));
      clients.push(c);
    }
    await until("every connection accepted", () => byPort.size === 5);
    accepted = clients.map((c) => byPort.get(c.localPort as number) as Socket);
    accepted.forEach((s) => expect(reading(s)).toBe(true));
  });
  afterEach(async () => {
    clients.forEach((c) => c.destroy());
    accepted.forEach((s) => s.destroy());
    await new Promise((r) => server.close(r));
  });

  it("reads again at most perTurn connections per turn, the longest-waiting first, skipping a closed one", async () => {
    const held = heldTurns();
    const reads = new RefusedReads(2, held.schedule);
    accepted.forEach((s) => reads.park(s));
    expect(accepted.map(reading)).toEqual([false, false, false, false, false]);
    expect(reads.waiting).toBe(5);
    expect(held.turns).toHaveLength(1); // one turn scheduled, not one per socket

    accepted[1].destroy();
    clients.forEach((c, i) => i !== 1 && c.write(`to ${i};`));
    await sleep(50);
    expect(got).toEqual([]);

    held.runOne();
    expect(accepted.map(reading)).toEqual([true, false, true, false, false]);
    expect(reads.waiting).toBe(2);
    await until("the data of the two read again", () => got.length === 2);
    await sleep(30);
    expect(got.sort()).toEqual(["to 0;", "to 2;"]);
    expect(held.turns).toHaveLength(1);

    held.runOne();
    expect(accepted.map(reading)).toEqual([true, false, true, true, true]);
    await until("the rest", () => got.length === 4);
    expect(got.sort()).toEqual(["to 0;", "to 2;", "to 3;", "to 4;"]);
    expect(reads.waiting).toBe(0);
    expect(held.turns).toHaveLength(0); // nothing left: no further turn
  });

  it("takes its turns at the ends of event-loop turns by default (setImmediate), one connection per turn here", async () => {
    const reads = new RefusedReads(1);
    accepted.forEach((s) => reads.park(s));
    const waitingAtTurnEnds: number[] = [];
    // Immediates queued after the first turn's run after it, in the same check phase.
    await new Promise<void>((resolve) => {
      const probe = () => {
        waitingAtTurnEnds.push(reads.waiting);
        if (reads.waiting === 0) resolve();
        else setImmediate(probe);
      };
      setImmediate(probe);
    });
    expect(waitingAtTurnEnds).toEqual([4, 3, 2, 1, 0]);
    clients.forEach((c, i) => c.write(`to ${i};`));
    await until("every connection's data", () => got.length === 5);
  });

  it("with perTurn 0 parks nothing; a connection is parked once however often it is refused; a closed one never", () => {
    const held = heldTurns();
    new RefusedReads(0, held.schedule).park(accepted[0]);
    expect(reading(accepted[0])).toBe(true);
    expect(held.turns).toHaveLength(0);

    const reads = new RefusedReads(2, held.schedule);
    reads.park(accepted[1]);
    reads.park(accepted[1]);
    accepted[2].destroy();
    reads.park(accepted[2]);
    expect(reads.waiting).toBe(1);
    expect(held.turns).toHaveLength(1);
  });
});
