import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize, sep } from "node:path";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".json": "application/json",
  ".png": "image/png",
  ".ico": "image/x-icon",
};

export interface StaticServer {
  /** Origin, e.g. http://127.0.0.1:43121 */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves a built single-page app from `dir` on loopback port 0 (GET/HEAD only; unknown paths get index.html).
 * Files are read at request time, so the directory may be built after the server starts.
 */
export async function startStaticServer(dir: string): Promise<StaticServer> {
  const root = normalize(dir);
  const server = createServer((req, res) => {
    void (async () => {
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405).end();
        return;
      }
      const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
      const file = normalize(join(root, path === "/" ? "index.html" : path));
      const inside = file.startsWith(root + sep);
      const body = await (inside ? readFile(file) : Promise.reject(new Error("outside"))).catch(() => null);
      const served = body ?? (await readFile(join(root, "index.html")).catch(() => null));
      if (served === null) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, {
        "content-type": TYPES[extname(body ? file : "index.html")] ?? "application/octet-stream",
        "cache-control": "no-store",
      });
      res.end(req.method === "HEAD" ? undefined : served);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
