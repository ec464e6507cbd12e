import { GraphQLError } from "graphql";
import { scrubbedMessage, scrubbedQuestionText, scrubbedReference } from "../../src/aopay/outcome";
import { shownClientId } from "../../src/auth/authenticator";
import { createFormatError } from "../../src/graphql/plugins/error-format";
import { shownAsRead } from "../../src/pii/client-text";
import { maskGlued, type Scrubber } from "../../src/pii/scrub";
import { scrubEntryPoints } from "./scrub-entry-points";

/**
 * Every exit text leaves the process by, as a table of functions of the text: scrubEntryPoints' rows but a request's
 * scrub alone (no exit: every text it scrubs is then masked by maskNumberShapes or maskNumberShapesKeepingLast4,
 * aopay/outcome.ts, both rows here, as are outcome.ts's own functions), a development error message, a client id and
 * a refused Origin as logged. For the differential test (exits-agree) and the table of forms kept on purpose
 * (kept-forms), so both read the same exits.
 */
export function everyExit(scrubber: Scrubber): Record<string, (text: string) => string> {
  const forRequest = () => scrubber.forRequest(["4829", "9182736450"]);
  const dev = createFormatError(scrubber, { production: false });
  const { "a request's scrub": _alone, ...points } = scrubEntryPoints(scrubber);
  return {
    ...points,
    "AOPay's message (outcome.ts)": (t) => scrubbedMessage(t, forRequest()),
    "AOPay's code or reference (outcome.ts)": (t) => scrubbedReference(t, forRequest(), 10_000),
    "a CIBIL question's text (outcome.ts)": (t) => scrubbedQuestionText(t, forRequest()),
    "a development error message (error-format.ts)": (t) => {
      const message = `Unknown operation named "${t}".`;
      return dev({ message, extensions: { code: "GRAPHQL_VALIDATION_FAILED" } }, new GraphQLError(message)).message;
    },
    "a client id as logged (authenticator.ts)": (t) => shownClientId(t),
    "a refused Origin as logged (cors.ts)": (t) => shownAsRead(t, maskGlued),
  };
}
