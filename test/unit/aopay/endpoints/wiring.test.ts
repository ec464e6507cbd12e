import { existsSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { AOPAY_ENDPOINT_NAMES } from "../../../../src/aopay/client";
import { type SimEndpointName, type Simulator, startSimulator } from "../../../../src/simulator/server";
import { endpointModules } from "../../../helpers/endpoint-modules";

/**
 * Every endpoint module (src/aopay/endpoints) is wired where docs/architecture.md "Adding an AOPay endpoint" says, in
 * the places tsc cannot see; each failure names the guide's step. A newcomer who followed the guide with an invented
 * read left it out of AOPAY_ENDPOINT_NAMES (the guide did not name the list): it compiled, its own tests, the docs
 * checks, first-scrape and operator-docs passed, and its upstream series were missing from the first scrape
 * (Metrics.startAtZero reads the list; so does the set of breakers made at startup). Forgetting the simulator's route
 * or the mapping test failed nowhere either.
 */
const MODULES = endpointModules();

describe("every endpoint module is wired where the guide says", () => {
  it("finds the endpoint modules", () => {
    expect(MODULES.length).toBeGreaterThanOrEqual(6);
  });

  it("each is in AOPAY_ENDPOINT_NAMES (src/aopay/client.ts), and nothing else is (step 2)", () => {
    const names = MODULES.map((m) => m.endpoint.name).sort();
    expect({
      step: "docs/architecture.md, Adding an AOPay endpoint, step 2: list the endpoint in AOPAY_ENDPOINT_NAMES",
      names: [...AOPAY_ENDPOINT_NAMES].sort(),
    }).toEqual({
      step: "docs/architecture.md, Adding an AOPay endpoint, step 2: list the endpoint in AOPAY_ENDPOINT_NAMES",
      names,
    });
  });

  it.each(MODULES.map((m) => [m.file, m] as const))("%s has its mapping test (step 7)", (file) => {
    const test = join(__dirname, file.replace(/\.ts$/, ".test.ts"));
    expect({ file, mappingTest: existsSync(test) }).toEqual({ file, mappingTest: true });
  });

  describe("the simulator answers it at its method and path, under its name (step 5)", () => {
    let sim: Simulator;
    beforeAll(async () => {
      sim = await startSimulator({ registrationId: "AOP-554", companyCode: "CMP1045" });
    });
    afterAll(() => sim?.close());

    it.each(MODULES.map((m) => [m.endpoint.name, m.endpoint] as const))("%s", async (name, endpoint) => {
      sim.resetCalls();
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(
          new URL(`/api/AOP${endpoint.path}`, sim.url),
          // Content-Length: Node's client frames no body of a GET by itself, and the simulator counts a call only once
          // it has read a JSON object (a body it never got is its 400, no call).
          { method: endpoint.method, headers: { "content-type": "application/json", "content-length": "2" } },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on("error", reject);
        req.end("{}");
      });
      // 404: no route at the path; 405: a route, not for the endpoint's method; calls: the route's name differs.
      expect({ name, path: endpoint.path, method: endpoint.method, routed: status !== 404 && status !== 405 }).toEqual({
        name,
        path: endpoint.path,
        method: endpoint.method,
        routed: true,
      });
      expect({ name, countedUnderItsName: sim.calls(name as SimEndpointName) }).toEqual({
        name,
        countedUnderItsName: 1,
      });
    });
  });
});
