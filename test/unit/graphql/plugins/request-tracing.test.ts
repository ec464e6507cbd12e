import { ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { GraphQLError } from "graphql";
import type { GraphQLContext, RequestTrace } from "../../../../src/graphql/context";
import { RequestTracing } from "../../../../src/graphql/plugins/tracing.plugin";
import type { AccessSummary } from "../../../../src/logging/access-log";

/**
 * RequestTracing's last two steps: GraphQL's answer is noted (`answered`), and the span ends once, with the status the
 * HTTP layer wrote (`end`, from the access line). test/e2e/operation-span.test.ts drives the same through both layers.
 */
describe("RequestTracing: the operation span ends once, with the written status", () => {
  const exporter = new InMemorySpanExporter();
  const tracing = new RequestTracing();
  beforeAll(() => {
    trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }));
  });
  afterAll(() => trace.disable());
  beforeEach(() => exporter.reset());

  /** A started span's holder, as graphql-context.ts and the plugin make it. */
  function started(): RequestTrace {
    const holder: RequestTrace = {};
    const contextValue = {
      trace: holder,
      client: { shown: "test-client" },
      log: { setBindings: () => undefined },
    } as unknown as GraphQLContext;
    tracing.start(contextValue, () => ROOT_CONTEXT);
    return holder;
  }
  const summary = (result: string | null): AccessSummary => ({ operation: "Probe", result });
  const finished = () => exporter.getFinishedSpans();

  it("does not end the span when GraphQL answers: only when the access line is written", () => {
    const holder = started();
    tracing.answered(holder, 200, undefined);
    expect(finished()).toHaveLength(0);
    RequestTracing.end(holder, 200, summary("AepsOtpResent"), false);
    expect(finished()).toHaveLength(1);
    expect(finished()[0].attributes).toMatchObject({
      "http.response.status_code": 200,
      "aopay.result": "AepsOtpResent",
    });
    expect(finished()[0].attributes["error.type"]).toBeUndefined();
    expect(finished()[0].status.code).not.toBe(2);
  });

  it("ends it once: a second end (or one for a request with no span) does nothing", () => {
    const holder = started();
    RequestTracing.end(holder, 200, null, false);
    RequestTracing.end(holder, 500, null, false);
    RequestTracing.end({}, 500, null, false);
    expect(finished()).toHaveLength(1);
    expect(finished()[0].attributes["http.response.status_code"]).toBe(200);
  });

  it("keeps GraphQL's error code when the written status is GraphQL's", () => {
    const holder = started();
    const error = new GraphQLError("bad", { extensions: { code: "BAD_USER_INPUT" } });
    tracing.answered(holder, 400, [error]);
    RequestTracing.end(holder, 400, summary("BAD_USER_INPUT"), false);
    expect(finished()[0].attributes).toMatchObject({
      "http.response.status_code": 400,
      "error.type": "BAD_USER_INPUT",
    });
    expect(finished()[0].status.code).toBe(2);
  });

  it.each([
    ["a 200 not serialised, answered 500", 200, 500, "INTERNAL_SERVER_ERROR"],
    ["a 200 answered 406 for its Accept", 200, 406, "BAD_REQUEST"],
    ["a hook that threw before willSendResponse", undefined, 500, "INTERNAL_SERVER_ERROR"],
  ])("takes the access line's code for an answer other than GraphQL's: %s", (_what, graphql, written, code) => {
    const holder = started();
    if (graphql !== undefined) tracing.answered(holder, graphql, undefined);
    RequestTracing.end(holder, written, summary(code), false);
    expect(finished()[0].attributes).toMatchObject({ "http.response.status_code": written, "error.type": code });
    expect(finished()[0].status.code).toBe(2);
  });

  it("says a client that had gone, with the status it was to have", () => {
    const holder = started();
    tracing.answered(holder, 200, undefined);
    RequestTracing.end(holder, 200, summary("AepsOtpResent"), true);
    expect(finished()[0].attributes).toMatchObject({ "http.response.status_code": 200, "aopay.client_gone": true });
    expect(finished()[0].attributes["error.type"]).toBeUndefined();
  });
});
