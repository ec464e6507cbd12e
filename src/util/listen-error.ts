/**
 * A listen() failure that names the setting which chose the port. Node's own text ("listen EADDRINUSE: address
 * already in use 127.0.0.1:9464") says neither which of the server's listeners failed nor how to move it: a second
 * `PORT=4100 npm start` beside a running one stopped on the metrics port, which the README's advice did not mention.
 */
export function listenErrorNamingSetting(error: unknown, setting: string, port: number): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (code !== "EADDRINUSE" && code !== "EACCES") return error;
  const why =
    code === "EADDRINUSE"
      ? "is in use (another instance of this server, or another program)"
      : "may not be opened by this user";
  const detail = error instanceof Error ? error.message : String(error);
  return new Error(`${setting}=${port}: the port ${why}. Set ${setting} to a free port, or 0 for any (${detail})`, {
    cause: error,
  });
}
