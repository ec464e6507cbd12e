import { aadhaarProblem, verhoeffValid } from "../../src/pii/aadhaar";

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

/**
 * A valid Aadhaar number (Verhoeff check digit, first digit 8), held to the server's own rules: with the check digit 8
 * and a run id whose digits mirror the serial, the number is a palindrome, which the server refuses; that serial is
 * skipped (bench/lib/mutations.js met the same case in a full run).
 */
export function nextAadhaar(): string {
  for (;;) {
    const body = `8${RUN}${String(1000 + (next() % 9000))}`;
    let check = 0;
    while (!verhoeffValid(`${body}${check}`)) check++;
    const aadhaar = `${body}${check}`;
    if (aadhaarProblem(aadhaar) === null) return aadhaar;
  }
}
