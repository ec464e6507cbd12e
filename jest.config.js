/**
 * Plain JS config: a jest.config.ts would need ts-node (see docs/design/stack.md).
 * ts-jest runs with isolatedModules, i.e. it only transpiles; `npm run typecheck` is the type gate.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  // type-graphql decorators need the metadata polyfill before any decorated class loads (as in src/index.ts).
  setupFiles: ["reflect-metadata"],
  // Builds dist-test/ once for the suites that spawn the real server process.
  globalSetup: "<rootDir>/test/global-setup.js",
  // Fails the run, naming them, when processes a suite started outlive it (instead of Jest never exiting).
  globalTeardown: "<rootDir>/test/global-teardown.js",
  transform: { "^.+\\.tsx?$": ["ts-jest", { tsconfig: "tsconfig.json" }] },
  // client/src imports its siblings as `./x.js` (so the built package runs as ES modules); here that is `./x.ts`.
  moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1" },
  // Loopback servers, child processes and Redis make some suites slow on a loaded 2-core CI box.
  testTimeout: 30000,
};
