// ESLint (flat config) with typescript-eslint, type-aware. The rules chosen catch what tsc does not: promises left
// floating or handed where a callback is expected (an OTP send whose failure nobody sees), unused code, and the
// recommended correctness rules. Formatting is Prettier's business (.prettierrc.json), not ESLint's.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

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
