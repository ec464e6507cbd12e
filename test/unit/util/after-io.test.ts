import { createServer, connect, type Server, type Socket } from "node:net";
import { timeoutAfterIo } from "../../../src/util/after-io";
import { stallEventLoop } from "../../helpers/stall";

/**
 * timeoutAfterIo against a loopback echo server: an answer that arrived while the event loop stalled past the timeout
 * is read before the timeout is judged; a peer that never answers still times out.
 */
describe("timeoutAfterIo: a timeout judged after the answers already readable", () => {
  const TIMEOUT_MS = 200;
  const STALL_MS = 400;
  let server: Server;
  /** What the echo server does after it read: answer then hold the loop for `stallMs`, or not answer. */
  let peerDoes: { answer: boolean; stallMs: number };
  let socket: Socket;

  beforeEach(async () => {
    server = createServer((peer) =>
      // The client's end at the test's end resets it: not a failure.
      peer
        .on("error", () => undefined)
        .on("data", (chunk) => {
          if (!peerDoes.answer) return;
          // The answer is in the client's socket, unread: the loop is held before this process's next poll phase.
          peer.write(chunk);
          stallEventLoop(peerDoes.stallMs);
        }),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    socket = connect(port, "127.0.0.1");
    await new Promise<void>((resolve) => socket.once("connect", resolve));
  });
  afterEach(async () => {
    socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  /** Writes, and tells which came first: the answer or the timeout. */
  const race = (arm: (timedOut: () => void) => NodeJS.Timeout) =>
    new Promise<{ first: "answer" | "timeout"; afterMs: number }>((resolve) => {
      const start = performance.now();
      const settle = (first: "answer" | "timeout") => {
        clearTimeout(timer);
        socket.off("data", answered);
        resolve({ first, afterMs: performance.now() - start });
      };
      const answered = () => settle("answer");
      const timer = arm(() => settle("timeout"));
      socket.on("data", answered);
      socket.write("ping");
    });

  it("a plain setTimeout fires before the answer read after the stall (what failed)", async () => {
    peerDoes = { answer: true, stallMs: STALL_MS };
    const { first } = await race((timedOut) => setTimeout(timedOut, TIMEOUT_MS));
    expect(first).toBe("timeout");
  });

  it("timeoutAfterIo lets the answer in the socket be read first", async () => {
    peerDoes = { answer: true, stallMs: STALL_MS };
    const { first } = await race((timedOut) => timeoutAfterIo(timedOut, TIMEOUT_MS, undefined));
    expect(first).toBe("answer");
  });

  it("a peer that does not answer still times out, at about the timeout", async () => {
    peerDoes = { answer: false, stallMs: 0 };
    const { first, afterMs } = await race((timedOut) => timeoutAfterIo(timedOut, TIMEOUT_MS, undefined));
    expect(first).toBe("timeout");
    expect(afterMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 1);
    expect(afterMs).toBeLessThan(TIMEOUT_MS + 150);
  });

  it("cleared before it fires, it never calls back", async () => {
    const called = jest.fn();
    clearTimeout(timeoutAfterIo(called, 10, undefined));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(called).not.toHaveBeenCalled();
  });
});
