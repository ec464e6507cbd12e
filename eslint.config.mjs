// ESLint (flat config) with typescript-eslint, type-aware. The rules chosen catch what tsc does not: promises left
// floating or handed where a callback is expected (an OTP send whose failure nobody sees), unused code, and the
// recommended correctness rules. Formatting is Prettier's business (.prettierrc.json), not ESLint's.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

// Globals that Node 24 defines as accessors on globalThis, not as data properties: every read of one is a getter call
// (about 250 main-thread instructions under callgrind), where the module's export is a plain property load. Measured
// with `Object.getOwnPropertyDescriptor(globalThis, name).get` in a script (not `node -e`, whose built-in module
// globals are accessors of the REPL's own): Buffer, crypto, navigator, performance, process; URL, TextEncoder,
// TextDecoder, structuredClone, queueMicrotask, setImmediate, setTimeout, fetch and the like are data properties,
// left alone. test/unit/lint/accessor-globals.test.ts checks this list against the running Node, and that the rule
// fires. The server's entry point also redefines process, Buffer and performance as data properties for the packages
// that read them (src/util/data-globals.ts); our modules import them all the same, so that they cost a load under any
// entry point, jest's environment among them.
const WHY = "It is a getter on globalThis in Node 24, a call per read (eslint.config.mjs).";
const ACCESSOR_GLOBALS = [
  { name: "Buffer", message: `Use \`import { Buffer } from "node:buffer";\`. ${WHY}` },
  { name: "performance", message: `Use \`import { performance } from "node:perf_hooks";\`. ${WHY}` },
  { name: "process", message: `Use \`import process from "node:process";\`. ${WHY}` },
  { name: "crypto", message: `Use node:crypto (\`webcrypto\` is the global's object). ${WHY}` },
  { name: "navigator", message: `Use node:os (availableParallelism, platform, ...). ${WHY}` },
];

/** The rule's options for `globals`; `checkGlobalObject` catches `globalThis.Buffer` too. */
function accessorGlobals(globals) {
  return ["error", { globals, checkGlobalObject: true }];
}

export default tseslint.config(
  {
    ignores: [
      "dist/**",
      "coverage/**",
      "test-artifacts/**",
      "dist-test/**",
      "bench/results/**",
      "node_modules/**",
      "client/**",
      "explorer/**",
      "examples/**",
      "bench/**",
      "codegen/**",
      "src/generated/**",
      "test/fixtures/**",
      "**/*.js",
      "**/*.cjs",
      "**/*.mjs",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["src/**/*.ts", "test/**/*.ts"],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": [
        "error",
        { checksVoidReturn: { arguments: false, attributes: false } },
      ],
      "@typescript-eslint/await-thenable": "error",
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" },
      ],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "no-console": ["error", { allow: ["warn", "error"] }],
    },
  },
  {
    files: ["src/**/*.ts"],
    rules: { "no-restricted-globals": accessorGlobals(ACCESSOR_GLOBALS) },
  },
  {
    // The global `performance` on purpose: jest's fake timers replace the global's object and leave node:perf_hooks'
    // real, and the tests that step these clocks (test/unit/aopay/deadline-timer.test.ts, circuit-breaker.test.ts,
    // test/unit/protection/pending-ttl.test.ts) install theirs there. The other accessor globals stay restricted.
    files: ["src/util/clock.ts", "src/aopay/circuit-breakers.ts"],
    rules: {
      "no-restricted-globals": accessorGlobals(ACCESSOR_GLOBALS.filter(({ name }) => name !== "performance")),
    },
  },
  {
    // Class constructors as map keys and decorator targets, the way reflect-metadata keys its records: `Function` is
    // the type TypeScript itself gives `target.constructor`.
    files: [
      "src/graphql/validation/canonical.ts",
      "src/graphql/validation/compiled-check.ts",
      "test/unit/graphql/validation/canonical.test.ts",
      "test/unit/graphql/validation/compiled-check.test.ts",
    ],
    rules: { "@typescript-eslint/no-unsafe-function-type": "off" },
  },
  {
    // Deliberately lazy loads: pino-pretty (a dev dependency) and the OpenTelemetry SDK only when asked for; the
    // explorer's static files plugin (development) and the built-in simulator (no AOPAY_BASE_URL) only when used;
    // ioredis only with REDIS_URL.
    files: [
      "src/logging/logger.ts",
      "src/observability/telemetry.ts",
      "src/http/explorer.ts",
      "src/stack.ts",
      "src/protection/redis.ts",
    ],
    rules: { "@typescript-eslint/no-require-imports": "off", "@typescript-eslint/consistent-type-imports": "off" },
  },
);
