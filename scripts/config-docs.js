// @ts-check
"use strict";
/**
 * `npm run config:docs`: writes .env.example and the generated table of docs/configuration.md from the settings
 * groups (src/**\/*.settings.ts) as compiled into dist/. test/unit/settings/settings.test.ts fails when they are stale.
 */
const { readFileSync, writeFileSync } = require("node:fs");
const { join } = require("node:path");

require("./cli").parseCli("usage: npm run config:docs   (writes .env.example and docs/configuration.md's table)\n");
const ROOT = join(__dirname, "..");
const { SETTINGS_GROUPS } = require(join(ROOT, "dist/config.js"));
const { renderEnvExample, renderTable, withTable } = require(join(ROOT, "dist/settings/docs.js"));

writeFileSync(join(ROOT, ".env.example"), renderEnvExample(SETTINGS_GROUPS));
const page = join(ROOT, "docs/configuration.md");
writeFileSync(page, withTable(readFileSync(page, "utf8"), renderTable(SETTINGS_GROUPS)));
process.stdout.write("wrote .env.example and docs/configuration.md\n");
