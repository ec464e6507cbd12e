import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

/** Debian's chromium (apt-get install chromium); never a browser that a test tool downloads. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** The flags this machine needs: without the background-networking ones Chromium keeps dialling out and is refused. */
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Fails, on purpose and saying how to fix it, when Chromium is missing: call it before any slow set-up. */
export function assertChromiumInstalled(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}. The browser tests need Debian's package: apt-get install -y chromium ` +
        "(.ci/run installs it when missing), or set CHROMIUM_PATH.",
    );
  }
}

/**
 * How long a launch may take before it fails naming itself: it takes 1-2 s, longer on a loaded CI machine; Playwright's
 * own default (180 s) is longer than any suite's set-up may take, so a hang would show only as a hook timeout.
 */
const LAUNCH_TIMEOUT_MS = 60_000;

/** Headless Debian chromium for the browser tests. */
export async function launchChromium(): Promise<Browser> {
  assertChromiumInstalled();
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: LAUNCH_TIMEOUT_MS });
}
