import { ApolloServer } from "@apollo/server";
import { loadConfig } from "../../../src/config";
import { apolloOptions } from "../../../src/graphql/apollo-options";
import type { GraphQLContext } from "../../../src/graphql/context";
import { trustedDocumentList } from "../../../src/graphql/trusted-documents";
import { createLogger } from "../../../src/logging/logger";
import { Scrubber } from "../../../src/pii/scrub";
import { LogCapture } from "../../helpers/log-capture";

/**
 * Apollo Server logs a few things itself (a plugin hook that throws, a persisted-query store failure, startup). Its
 * default logger writes them to the console, past our redaction and scrubber and in plain text among the JSON lines;
 * apolloOptions hands it the process's logger instead.
 */
describe("Apollo Server's own log lines", () => {
  it("go through the process's logger: JSON, tagged apollo, scrubbed", async () => {
    const logs = new LogCapture();
    const log = createLogger({ level: "info", destination: logs });
    const config = loadConfig({ NODE_ENV: "test" });
    const { options } = await apolloOptions(config, {
      scrubber: new Scrubber([]),
      metrics: null,
      trustedDocuments: trustedDocumentList(),
      explorerPath: "/graphiql",
      log,
    });
    // A plugin hook that throws, with a customer's mobile in its message: Apollo logs
    // `Unexpected error processing request: <error>` and answers its own 500.
    const server = new ApolloServer<GraphQLContext>({
      ...options,
      plugins: [
        ...(options.plugins ?? []),
        {
          async requestDidStart() {
            throw new Error("lookup failed for 9876543210");
          },
        },
      ],
    });
    await server.start();
    try {
      await expect(server.executeOperation({ query: "{ serviceInfo { upstream } }" })).rejects.toThrow(
        "Internal server error",
      );
    } finally {
      await server.stop();
    }
    const line = logs.records().find((r) => r.component === "apollo");
    expect(line).toMatchObject({
      level: "error",
      msg: "Unexpected error processing request: Error: lookup failed for XXXXXX3210",
    });
    expect(logs.raw()).not.toContain("9876543210");
  });

  it("a plugin hook that throws: an error line with the request id, and the access line's result says so", async () => {
    const logs = new LogCapture();
    const log = createLogger({ level: "info", destination: logs });
    const config = loadConfig({ NODE_ENV: "test" });
    const { options } = await apolloOptions(config, {
      scrubber: new Scrubber([]),
      metrics: null,
      trustedDocuments: trustedDocumentList(),
      explorerPath: "/graphiql",
      log,
    });
    const server = new ApolloServer<GraphQLContext>({
      ...options,
      plugins: [
        ...(options.plugins ?? []),
        {
          async requestDidStart() {
            return {
              async willSendResponse() {
                throw new Error("lookup failed for 9876543210");
              },
            };
          },
        },
      ],
    });
    await server.start();
    const summary: GraphQLContext["summary"] = { operation: null, result: null };
    const contextValue = { log: log.child({ requestId: "req-1" }), summary, responseHeaders: new Map() };
    try {
      await expect(
        server.executeOperation(
          { query: "{ __typename }" },
          { contextValue: contextValue as unknown as GraphQLContext },
        ),
      ).rejects.toThrow("Internal server error");
    } finally {
      await server.stop();
    }
    // Before, only Apollo's line, without the request id, said anything; the access line's result was what the
    // resolvers had resolved.
    const mine = logs.records().filter((r) => r.requestId === "req-1" && r.level === "error");
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({
      msg: "unexpected error: answered 500",
      err: { message: "lookup failed for XXXXXX3210" },
    });
    expect(summary).toMatchObject({ result: "INTERNAL_SERVER_ERROR", failed: true });
    expect(logs.raw()).not.toContain("9876543210");
  });
});
