import { GraphQLError } from "graphql";
import type { GraphQLContext } from "../../../../src/graphql/context";
import { logMaskedErrors } from "../../../../src/graphql/plugins/request.plugin";
import { createLogger } from "../../../../src/logging/logger";
import { LogCapture } from "../../../helpers/log-capture";

/**
 * An unexpected error is logged with its path, whose names are the client's aliases. A number glued into an alias
 * (`m9876543210`) passes the log scrubber's rule for tokens (a run glued to letters is left alone), so
 * logMaskedErrors masks digit runs in the path itself.
 */
describe("the masked-error log line", () => {
  it("masks numbers in the client's aliases in its path, keeps list indexes and short names", () => {
    const logs = new LogCapture();
    const log = createLogger({ level: "info", destination: logs });
    const error = new GraphQLError("boom", { path: ["m9876543210", 3, "x234123412346", "maskedMobile"] });
    logMaskedErrors([error], { log } as unknown as GraphQLContext, "Anything");
    const line = logs.records().find((r) => r.msg === "unexpected error (masked for the client)");
    expect(line?.path).toEqual(["mXXXXXXXXXX", 3, "xXXXXXXXXXXXX", "maskedMobile"]);
    expect(logs.text()).not.toMatch(/9876543210|234123412346/);
  });
});
