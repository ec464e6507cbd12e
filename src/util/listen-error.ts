/** A listener as the settings chose it: which settings name its address and port, and their values. */
export interface ListenerSettings {
  hostSetting: string;
  host: string;
  portSetting: string;
  port: number;
}

/** listen() failures that come from the address (HOST, METRICS_HOST), not the port. */
const ADDRESS_CODES = new Set(["ENOTFOUND", "EAI_AGAIN", "EAI_NONAME", "EADDRNOTAVAIL"]);

/**
 * A listen() failure that names the setting which chose the port or the address. Node's own text ("listen EADDRINUSE:
 * address already in use 127.0.0.1:9464", "getaddrinfo ENOTFOUND api.internal") says neither which of the server's
 * listeners failed nor how to move it: a second `PORT=4100 npm start` beside a running one stopped on the metrics port,
 * which the README's advice did not mention, and an operations audit's misspelt HOST stopped the start the same way.
 * Other failures are returned as they are.
 */
export function listenErrorNamingSetting(error: unknown, listener: ListenerSettings): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  const detail = error instanceof Error ? error.message : String(error);
  if (code === "EADDRINUSE" || code === "EACCES") {
    const { portSetting: setting, port } = listener;
    const why =
      code === "EADDRINUSE"
        ? "is in use (another instance of this server, or another program)"
        : "may not be opened by this user";
    return new Error(`${setting}=${port}: the port ${why}. Set ${setting} to a free port, or 0 for any (${detail})`, {
      cause: error,
    });
  }
  if (typeof code === "string" && ADDRESS_CODES.has(code)) {
    const { hostSetting: setting, host } = listener;
    return new Error(
      `${setting}=${host}: not an address of this machine (it does not resolve, or names another host). Set ` +
        `${setting} to one of its addresses: 127.0.0.1 for this machine only, 0.0.0.0 for every interface (${detail})`,
      { cause: error },
    );
  }
  return error;
}
