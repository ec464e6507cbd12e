// @ts-check
"use strict";
/**
 * `npm run schema:lint`: graphql-schema-linter over schema/schema.graphql (rules and reasons in
 * graphql-schema-linter.config.js), with what to do when it fails. The linter names lines of schema/schema.graphql,
 * a file printed from the type-graphql classes: a newcomer's fix there is undone by the next `npm run schema:emit`
 * and fails test/e2e/schema-drift.test.ts. Arguments go to the linter (a schema file instead of the configured one).
 */
const { spawnSync } = require("node:child_process");
const path = require("node:path");

const cli = path.join(path.dirname(require.resolve("graphql-schema-linter/package.json")), "lib/cli.js");
const result = spawnSync(process.execPath, [cli, ...process.argv.slice(2)], { stdio: "inherit" });
if (result.status !== 0) {
  process.stderr.write(
    "\nschema:lint: schema/schema.graphql is printed from the classes in src/graphql/: fix the decorator there\n" +
      "(`@Field({ description })`, `@Arg(name, type, { description })`, `registerEnumType(..., { valuesConfig })`; the\n" +
      'root types in src/graphql/schema.ts), then `npm run schema:emit`. See docs/contributing.md "Changing the schema".\n',
  );
}
process.exitCode = result.status ?? 1;
