import type { ServerResponse } from "node:http";
import { type FakeUpstream, json } from "./fake-upstream";
import { fixtureJson } from "./fixtures";

const AEPS_SUCCESS = fixtureJson("aeps/resend-otp.success");

/**
 * Makes `upstream` hold every answer until release(), then answer everything held (and every later call) with the
 * documented AEPS resend success: the requests in flight stay in flight for as long as a test needs, so an
 * admission test depends on no timing.
 */
export function holdingUpstream(upstream: FakeUpstream) {
  const held: ServerResponse[] = [];
  let open = false;
  upstream.respond((call, res, req) => {
    if (open) json(200, AEPS_SUCCESS)(call, res, req);
    else held.push(res);
  });
  return {
    held,
    release() {
      open = true;
      for (const res of held.splice(0)) json(200, AEPS_SUCCESS)({} as never, res, {} as never);
    },
  };
}

/** Polls `check` every 10 ms until it holds; throws after `ms`. */
export async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
