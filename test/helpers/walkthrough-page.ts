import { readFileSync } from "node:fs";
import { join } from "node:path";

/** docs/walkthrough.md's section that starts with `heading`, up to the next `## ` heading. */
export function walkthroughSection(heading: string): string {
  const page = readFileSync(join(__dirname, "../../docs/walkthrough.md"), "utf8");
  const start = page.indexOf(heading);
  if (start === -1) throw new Error(`docs/walkthrough.md has no "${heading}" section`);
  const end = page.indexOf("\n## ", start + 10);
  return page.slice(start, end === -1 ? undefined : end);
}

/** The Sandbox section's heading (test/e2e/walkthrough.test.ts runs it). */
export const SANDBOX_SECTION = "## Walk both flows in Apollo Sandbox";

/** Fenced ```graphql blocks (a block may hold several operations) and inline `query { … }` spans, in reading order. */
export function walkthroughOperations(section: string): string[] {
  const found = [...section.matchAll(/```graphql\n([\s\S]*?)```|`(query \{[^`]+)`/g)];
  return found.flatMap((m) =>
    m[1] !== undefined
      ? m[1]
          .split(/\n(?=(?:mutation|query) \{)/)
          .map((o) => o.trim())
          .filter(Boolean)
      : [m[2]],
  );
}

/**
 * What the Sandbox section's steps answer, in order, run as written on one fresh server: its own repeat of the CIBIL
 * send is refused on purpose (the cooldown), the rest reach the end of both flows.
 */
export const SANDBOX_RESULTS = [
  "CibilCustomerRegistered",
  "CibilOtpChallenge",
  "OtpThrottled",
  "CibilOtpVerified",
  "CibilCreditHistory",
  "AepsOtpResent",
  "AepsRegistrationVerified",
];
