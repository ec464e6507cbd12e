import { verhoeffValid } from "../../src/pii/aadhaar";

/**
 * Valid identifiers, distinct per call and per run, so that tests sharing a server never share a destination's budget.
 * CIBIL ids and mobiles end in 1xx, which triggers no simulator failure scenario (src/simulator/scenarios.ts).
 */
let serial = 0;
const RUN = String((Date.now() + process.pid) % 1e6).padStart(6, "0");
const next = () => serial++;

export const nextCibilId = () => `7${RUN}${100 + (next() % 100)}`;
export const nextMobile = () => `9${RUN}${100 + (next() % 100)}`;
export const nextPan = () => `ABCPE${String(1000 + (next() % 9000))}F`;

/** A valid Aadhaar number (Verhoeff check digit, first digit 8). */
export function nextAadhaar(): string {
  const body = `8${RUN}${String(1000 + (next() % 9000))}`;
  for (let check = 0; check < 10; check++) {
    if (verhoeffValid(`${body}${check}`)) return `${body}${check}`;
  }
  throw new Error("unreachable: every body has one Verhoeff check digit");
}
