import "reflect-metadata";
import process from "node:process";
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { createSchema, printSdl } from "./graphql/schema";
import { refuseArguments } from "./util/command-line";

/** `npm run schema:emit`: writes schema/schema.graphql (resolved from the working directory, docs/design/stack.md pitfall 11). */
async function main(): Promise<void> {
  refuseArguments("usage: npm run schema:emit   (writes schema/schema.graphql under the working directory)\n");
  const target = resolve(process.cwd(), "schema/schema.graphql");
  writeFileSync(target, printSdl(await createSchema()));
  process.stdout.write(`wrote ${target}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
