import { execFile } from "node:child_process";
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { buildSchema, isAbstractType } from "graphql";
import { AOPAY_ERROR_CODES } from "../../client/src/graphql-errors";
import { FailureCode } from "../../src/graphql/failures/failure-code.enum";
import { assertChromiumInstalled, launchChromium } from "../helpers/chromium";
import { docSnippets, type Snippet } from "../helpers/doc-snippets";
import { startTestStack, type TestStack } from "../helpers/stack";
import { startStaticServer } from "../helpers/static-server";

const FAILURE_CODES: readonly string[] = Object.values(FailureCode);

function abstractTypesOfSchema(): string[] {
  const schema = buildSchema(readFileSync(join(__dirname, "../../schema/schema.graphql"), "utf8"));
  return Object.values(schema.getTypeMap())
    .filter((type) => isAbstractType(type) && !type.name.startsWith("__"))
    .map((type) => type.name)
    .sort();
}

const run = promisify(execFile);

const ROOT = join(__dirname, "../..");
const WORK = join(ROOT, "test-artifacts/client-package");
const PKG = join(WORK, "dist");
const CONSUMER = join(WORK, "consumer");
const TSC = join(ROOT, "node_modules/typescript/bin/tsc");

interface Manifest {
  name: string;
  exports: Record<
    string,
    { import: { types: string; default: string }; require: { types: string; default: string } } | string
  >;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional: boolean }>;
  engines: { node: string };
}

/**
 * The package `npm run client:build` makes, used the way an app would: built into test-artifacts/, installed into a
 * consumer folder as node_modules/@aopay-graphql/client (a link, as `npm install <folder>` makes), then required
 * (CommonJS), imported (ES modules) and type-checked (nodenext and bundler resolution) through its `exports`.
 * The consumer sits inside the repo, so the package's own dependencies resolve from the repo's node_modules.
 */
describe("the built client package", () => {
  let t: TestStack;
  let manifest: Manifest;

  beforeAll(async () => {
    rmSync(WORK, { recursive: true, force: true });
    await run(process.execPath, [join(ROOT, "scripts/client-build.js"), "--out", PKG], { cwd: ROOT });
    manifest = JSON.parse(readFileSync(join(PKG, "package.json"), "utf8")) as Manifest;
    cpSync(join(ROOT, "test/fixtures/client-consumer"), CONSUMER, { recursive: true });
    mkdirSync(join(CONSUMER, "node_modules/@aopay-graphql"), { recursive: true });
    symlinkSync(PKG, join(CONSUMER, "node_modules/@aopay-graphql/client"), "dir");
    t = await startTestStack();
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
  });

  it("has a manifest with separate entry points, each with ESM, CommonJS and types that exist", () => {
    expect(manifest.name).toBe("@aopay-graphql/client");
    expect(Object.keys(manifest.exports)).toEqual([".", "./react", "./sdk", "./package.json"]);
    for (const [subpath, target] of Object.entries(manifest.exports)) {
      if (typeof target === "string") continue;
      for (const file of [target.import.types, target.import.default, target.require.types, target.require.default]) {
        expect({ subpath, file, exists: existsSync(join(PKG, file)) }).toEqual({ subpath, file, exists: true });
      }
    }
    // The SDK needs only undici; React, Apollo Client and rxjs are optional peers for the hooks.
    expect(Object.keys(manifest.dependencies).sort()).toEqual(["@graphql-typed-document-node/core", "undici"]);
    expect(manifest.peerDependenciesMeta).toEqual({
      "@apollo/client": { optional: true },
      react: { optional: true },
      rxjs: { optional: true },
    });
    expect(manifest.peerDependencies.graphql).toBeDefined();
  });

  it("ships a README whose Node version is the manifest's engines' (npm warns EBADENGINE below it)", () => {
    const lowest = /(\d+\.\d+)/.exec(manifest.engines.node)?.[1];
    const readme = readFileSync(join(PKG, "README.md"), "utf8");
    const named = [...readme.matchAll(/Node(?:\.js)? (?:≥ ?|>= ?|v)?(\d+(?:\.\d+)?)/g)].map((m) => m[1]);
    expect(named).toEqual([lowest]);
  });

  it("packs only the built files (npm pack)", async () => {
    const { stdout } = await run("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: PKG });
    const [packed] = JSON.parse(stdout) as [{ files: { path: string }[] }];
    const files = packed.files.map((f) => f.path);
    expect(files).toEqual(
      expect.arrayContaining([
        "package.json",
        "README.md",
        "esm/sdk/index.js",
        "esm/sdk/index.d.ts",
        "cjs/react/index.js",
        "cjs/generated/sdk.d.ts",
      ]),
    );
    expect(files.filter((f) => /\.tsx?$/.test(f) && !f.endsWith(".d.ts"))).toEqual([]);
  }, 30_000);

  it("works from CommonJS: require() of each entry point, and the SDK calls the live server", async () => {
    const { stdout } = await run(process.execPath, ["consumer.cjs", t.graphqlUrl], { cwd: CONSUMER });
    expect(JSON.parse(stdout)).toEqual({
      format: "cjs",
      challenge: {
        typename: "CibilOtpChallenge",
        question: expect.stringContaining("The One Time Password is sent to *********."),
        requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      },
      failure: {
        typename: "UpstreamRejected",
        isFailure: true,
        code: "UPSTREAM_REJECTED",
        upstreamMessage: expect.any(String),
      },
      errorClass: "function",
      hook: "function",
      link: "function",
      // Every union and interface in the published schema, so Apollo's cache can match fragments on all of them.
      possibleTypes: abstractTypesOfSchema(),
    });
  });

  it("works from ES modules: import of each entry point, and the SDK calls the live server", async () => {
    const { stdout } = await run(process.execPath, ["consumer.mjs", t.graphqlUrl], { cwd: CONSUMER });
    expect(JSON.parse(stdout)).toMatchObject({
      format: "esm",
      resent: { __typename: "AepsOtpResent", maskedAadhaar: "XXXX XXXX 2346", maskedMobile: "XXXXXX3210" },
      invalid: {
        data: null,
        problems: { "input.mobile": expect.any(String) },
        requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      },
      document: "Document",
      hook: "function",
    });
  });

  describe("the TypeScript examples of the docs, as pasted", () => {
    const SNIPPETS = join(CONSUMER, "snippets");
    const dirOf = (snippet: Snippet) => join(SNIPPETS, snippet.page.replace(/[/.]/g, "-"));
    const snippets = docSnippets(ROOT);
    // A failure's or a GraphQL error's code in what an example printed: it ran, but not to the result it shows.
    const CODES = [...new Set([...FAILURE_CODES, ...AOPAY_ERROR_CODES])];
    const codesIn = (stdout: string) => CODES.filter((code) => new RegExp(`\\b${code}\\b`).test(stdout));

    beforeAll(() => {
      for (const snippet of snippets) {
        mkdirSync(dirOf(snippet), { recursive: true });
        writeFileSync(join(dirOf(snippet), snippet.file), snippet.code);
      }
      const files = (lang: string) =>
        snippets.filter((s) => s.lang === lang).map((s) => relative(SNIPPETS, join(dirOf(s), s.file)));
      const base = JSON.parse(readFileSync(join(CONSUMER, "tsconfig.node.json"), "utf8")) as {
        compilerOptions: object;
      };
      const react = JSON.parse(readFileSync(join(CONSUMER, "tsconfig.react.json"), "utf8")) as {
        compilerOptions: object;
      };
      writeFileSync(join(SNIPPETS, "tsconfig.node.json"), JSON.stringify({ ...base, files: files("ts") }));
      writeFileSync(join(SNIPPETS, "tsconfig.react.json"), JSON.stringify({ ...react, files: files("tsx") }));
    });

    it("are found: docs/clients.md's React and Node examples and client/README.md's", () => {
      expect(snippets.map((s) => `${s.page} ${s.lang}`)).toEqual(
        expect.arrayContaining([
          "client/README.md ts",
          "client/README.md tsx",
          "docs/clients.md ts",
          "docs/clients.md tsx",
        ]),
      );
    });

    it("type-check against the built .d.ts (Node examples nodenext as ES modules, React ones bundler)", async () => {
      for (const project of ["tsconfig.node.json", "tsconfig.react.json"]) {
        const outcome = await run(process.execPath, [TSC, "-p", project], { cwd: SNIPPETS }).then(
          () => "ok",
          (error: { stdout?: string }) => error.stdout ?? String(error),
        );
        expect({ project, outcome }).toEqual({ project, outcome: "ok" });
      }
    }, 60_000);

    it("Node examples run against the live server (its URL in place of the example's) and print a result", async () => {
      for (const snippet of snippets.filter((s) => s.lang === "ts")) {
        const file = join(dirOf(snippet), snippet.file);
        writeFileSync(file, snippet.code.replaceAll("https://api.example.com/graphql", t.graphqlUrl));
        const outcome = await run(process.execPath, [file], { cwd: dirOf(snippet) }).then(
          ({ stdout, stderr }) => ({ exit: 0, printed: stdout.trim().length > 0, codes: codesIn(stdout), stderr }),
          (error: { code?: number; stdout?: string; stderr?: string }) => ({
            exit: error.code,
            printed: false,
            codes: codesIn(error.stdout ?? ""),
            stderr: error.stderr,
          }),
        );
        expect({ page: snippet.page, ...outcome }).toEqual({
          page: snippet.page,
          exit: 0,
          printed: true,
          codes: [],
          stderr: "",
        });
      }
    }, 60_000);

    // A newcomer's first run is often without `npm start`: an example must say so, not exit 0 having printed
    // nothing (docs/clients.md's Node example caught the SDK's error and dropped it).
    it("Node examples, with no server listening, print the SDK's NETWORK_ERROR and exit non-zero", async () => {
      const ts = snippets.filter((s) => s.lang === "ts");
      expect(ts.length).toBeGreaterThanOrEqual(2);
      for (const snippet of ts) {
        const file = join(dirOf(snippet), snippet.file);
        // Port 1: nothing listens there, the connection is refused.
        writeFileSync(file, snippet.code.replaceAll("https://api.example.com/graphql", "http://127.0.0.1:1/graphql"));
        const outcome = await run(process.execPath, [file], { cwd: dirOf(snippet) }).then(
          ({ stdout, stderr }) => ({ exit: 0, said: `${stdout}${stderr}`.includes("NETWORK_ERROR") }),
          (error: { code?: number; stdout?: string; stderr?: string }) => ({
            exit: error.code,
            said: `${error.stdout ?? ""}${error.stderr ?? ""}`.includes("NETWORK_ERROR"),
          }),
        );
        expect({ page: snippet.page, failed: outcome.exit !== 0, said: outcome.said }).toEqual({
          page: snippet.page,
          failed: true,
          said: true,
        });
      }
    }, 60_000);

    // The Node examples printed only the error's code (UNAUTHENTICATED), and client/README.md's exited 0: a newcomer
    // whose AOPAY_API_KEY the server refuses was not shown the message that names the header to send it in.
    it("Node examples, with a credential the server refuses, print its message and exit non-zero", async () => {
      const ts = snippets.filter((s) => s.lang === "ts");
      expect(ts.length).toBeGreaterThanOrEqual(2);
      const refused = await t.gql("{ serviceInfo { upstream } }", undefined, { "x-api-key": "aopk_wrong" });
      const message = refused.body.errors?.[0]?.message ?? "";
      expect(message).toContain("x-api-key");
      for (const snippet of ts) {
        const file = join(dirOf(snippet), snippet.file);
        writeFileSync(file, snippet.code.replaceAll("https://api.example.com/graphql", t.graphqlUrl));
        const env = { ...process.env, AOPAY_API_KEY: "aopk_wrong" };
        const outcome = await run(process.execPath, [file], { cwd: dirOf(snippet), env }).then(
          ({ stdout, stderr }) => ({ exit: 0, said: `${stdout}${stderr}`.includes(message) }),
          (error: { code?: number; stdout?: string; stderr?: string }) => ({
            exit: error.code,
            said: `${error.stdout ?? ""}${error.stderr ?? ""}`.includes(message),
          }),
        );
        expect({ page: snippet.page, failed: outcome.exit !== 0, said: outcome.said }).toEqual({
          page: snippet.page,
          failed: true,
          said: true,
        });
      }
    }, 60_000);
  });

  it("type-checks a Node consumer (nodenext) and a React consumer (bundler) against the built .d.ts", async () => {
    for (const project of ["tsconfig.node.json", "tsconfig.react.json"]) {
      const outcome = await run(process.execPath, [TSC, "-p", project], { cwd: CONSUMER }).then(
        () => "ok",
        (error: { stdout?: string }) => error.stdout ?? String(error),
      );
      expect({ project, outcome }).toEqual({ project, outcome: "ok" });
    }
  }, 60_000);
});

/**
 * The whole documented path (docs/clients.md "Installing the client in an app" and "React (Apollo Client 4)") in a
 * scratch app outside the repository, so that nothing can resolve from the repo's node_modules: a copy of Vite's
 * React + TypeScript template (test/fixtures/vite-react-ts), the tarball from `npm run client:pack` installed with the
 * documented command, another package installed after it, then `npm ci`; after each step the client must still be a
 * real folder (not a symlink) whose @apollo/client is the app's own. Then the docs' two files, pasted as they stand,
 * must pass the template's `npm run build` (`tsc -b`, strict, then `vite build`).
 *
 * Packages come from the npm registry (or npm's cache while its copy is fresh), as they do for a reader; nothing else is
 * fetched. Takes about 1.5 min on a loaded 2-core machine, most of it npm. Not `--prefer-offline`: with it npm trusts
 * a stale cached package list, and a version published since (source-map-js 1.3.0, 2026-11-29) that `npm install`
 * wrote into the lockfile from a fresh list was then "No matching version found" (ETARGET) for `npm ci`.
 */
describe("the packed client in a new Vite React app outside the repository", () => {
  const NPM_FLAGS = ["--no-audit", "--no-fund", "--loglevel=error"];
  let scratch: string;
  let app: string;
  let tarball: string;

  const npm = (...args: string[]) => run("npm", [...args, ...NPM_FLAGS], { cwd: app, maxBuffer: 16 * 1024 * 1024 });

  /** Where the app's copy of the client is, and where that copy finds @apollo/client. */
  function installedClient() {
    const dir = join(app, "node_modules/@aopay-graphql/client");
    const apollo = require.resolve("@apollo/client", { paths: [realpathSync(dir)] });
    return {
      symlink: lstatSync(dir).isSymbolicLink(),
      insideApp: !relative(app, realpathSync(dir)).startsWith(".."),
      apolloFromApp: realpathSync(apollo).startsWith(realpathSync(join(app, "node_modules")) + "/"),
    };
  }

  /** The ```tsx blocks of docs/clients.md's React section, in order. */
  function reactSnippets(): string[] {
    const docs = readFileSync(join(ROOT, "docs/clients.md"), "utf8");
    const section = docs.slice(docs.indexOf("## React (Apollo Client 4)"), docs.indexOf("- **Results are unions.**"));
    return [...section.matchAll(/```tsx\n([\s\S]*?)```/g)].map((m) => m[1]);
  }

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), "aopay-client-app-"));
    app = join(scratch, "my-app");
    tarball = join(scratch, "aopay-graphql-client.tgz");
    // What `npm run client:pack` runs, writing to the scratch folder instead of client/ (a developer's own tarball stays).
    await run(process.execPath, [join(ROOT, "scripts/client-pack.js"), "--out", tarball], { cwd: ROOT });
    cpSync(join(ROOT, "test/fixtures/vite-react-ts"), app, { recursive: true });
    rmSync(join(app, "README.md"));
  }, 180_000);
  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it("stays an installed copy through the documented install, another install and npm ci", async () => {
    await npm("install"); // the template's own dependencies, as create-vite tells you to
    // The documented command, with the tarball's path as the reader has it.
    await npm("install", tarball, "@apollo/client", "graphql", "rxjs");
    const manifest = JSON.parse(readFileSync(join(app, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    expect(manifest.dependencies["@aopay-graphql/client"]).toMatch(/^file:.*aopay-graphql-client\.tgz$/);
    expect(installedClient()).toEqual({ symlink: false, insideApp: true, apolloFromApp: true });

    await npm("install", "lru-cache"); // any later install: a folder dependency became a symlink here
    expect(installedClient()).toEqual({ symlink: false, insideApp: true, apolloFromApp: true });

    await npm("ci");
    expect(installedClient()).toEqual({ symlink: false, insideApp: true, apolloFromApp: true });
  }, 400_000);

  it("installs into a Node service with docs/clients.md's command (graphql 16 with it), then graphql 17: the SDK calls the server with each", async () => {
    const docs = readFileSync(join(ROOT, "docs/clients.md"), "utf8");
    const command = /A Node service needs only the tarball: `npm install ([^`]+)`/.exec(docs)?.[1];
    expect(command).toBe("../aopay-graphql/client/aopay-graphql-client.tgz");
    const service = (name: string) => {
      const dir = join(scratch, name);
      mkdirSync(dir);
      writeFileSync(join(dir, "package.json"), JSON.stringify({ name, private: true, type: "module" }));
      return dir;
    };
    const stack = await startTestStack();
    // The SDK's call, the client's document printed by the app's own graphql (17 and 16 print the same).
    const script = `
      import { print, version } from "graphql";
      import { GenerateCibilOtpDocument } from "@aopay-graphql/client";
      import { createSdk } from "@aopay-graphql/client/sdk";
      const sdk = createSdk({ url: process.argv[1] });
      const { data } = await sdk.generateCibilOtp({ input: { cibilId: "102277100", accessToken: "123456542124" } });
      console.log(JSON.stringify({ version, printed: print(GenerateCibilOtpDocument).startsWith("mutation GenerateCibilOtp"), typename: data?.generateCibilOtp.__typename }));`;
    /** The install's outcome (`npm ls` exits 1 on a peer outside its range), then what the script printed. */
    const installAndCall = async (dir: string, ...packages: string[]) => {
      const installed = await run("npm", ["install", ...packages, ...NPM_FLAGS], { cwd: dir }).then(
        () =>
          run("npm", ["ls", "--all"], { cwd: dir }).then(
            () => "ok",
            (error: { stdout?: string }) => error.stdout ?? String(error),
          ),
        (error: { stderr?: string }) => error.stderr ?? String(error),
      );
      if (installed !== "ok") return { installed };
      const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script, stack.graphqlUrl], {
        cwd: dir,
      });
      return { installed, ...(JSON.parse(stdout) as object) };
    };
    try {
      // npm adds the peer by itself, and picks 16 (as for Apollo Client 4, whose peers allow 17 too).
      expect(await installAndCall(service("node-service"), tarball)).toEqual({
        installed: "ok",
        version: expect.stringMatching(/^16\./),
        printed: true,
        typename: "CibilOtpChallenge",
      });
      // graphql 17 is npm's latest: with the client's peer range ^16 a service on it got ERESOLVE.
      expect(await installAndCall(service("node-service-17"), tarball, "graphql@17")).toEqual({
        installed: "ok",
        version: expect.stringMatching(/^17\./),
        printed: true,
        // The same customer's second send in a minute meets the cooldown: a typed answer either way.
        typename: expect.stringMatching(/^(CibilOtpChallenge|OtpThrottled)$/),
      });
    } finally {
      await stack.stop();
    }
  }, 180_000);

  it("builds docs/clients.md's React files, pasted as they stand, with the template's npm run build (tsc -b strict, vite build)", async () => {
    const [sendOtp, main] = reactSnippets();
    expect(sendOtp).toContain("useGenerateCibilOtpMutation");
    expect(main).toContain("ApolloProvider");
    mkdirSync(join(app, "src"), { recursive: true });
    writeFileSync(join(app, "src/SendOtp.tsx"), sendOtp);
    writeFileSync(join(app, "src/main.tsx"), main);
    const outcome = await npm("run", "build").then(
      () => "ok",
      (error: { stdout?: string; stderr?: string }) => `${error.stdout ?? ""}${error.stderr ?? ""}`,
    );
    expect(outcome).toBe("ok");
    const bundles = readdirSync(join(app, "dist/assets")).filter((f) => f.endsWith(".js"));
    const code = bundles.map((f) => readFileSync(join(app, "dist/assets", f), "utf8")).join("");
    // The hook's document made it into the bundle, from the installed package.
    expect(code).toContain("GenerateCibilOtp");
  }, 180_000);

  it("runs docs/clients.md's React files in Chromium: OTP sent; with no server, the docs' hint shown", async () => {
    assertChromiumInstalled();
    const docs = readFileSync(join(ROOT, "docs/clients.md"), "utf8");
    const hint = /If the page shows `([^`]+)`/.exec(docs)?.[1];
    expect(hint).toBeDefined();
    const [sendOtp] = reactSnippets();
    const DOCUMENTED_URL = "http://localhost:4000/graphql";
    expect(sendOtp).toContain(DOCUMENTED_URL);
    const stack = await startTestStack();
    const site = await startStaticServer(join(app, "dist"));
    const browser = await launchChromium();
    try {
      /** Builds the pasted files with the endpoint at `url`, clicks Send OTP and returns what the page then shows. */
      const clickSend = async (url: string) => {
        writeFileSync(join(app, "src/SendOtp.tsx"), sendOtp.replace(DOCUMENTED_URL, url));
        await npm("run", "build");
        const page = await browser.newPage();
        await page.goto(site.url);
        await page.getByRole("button", { name: "Send OTP" }).click();
        const shown = page.locator("p");
        await page.waitForFunction(`(document.querySelector("p")?.textContent ?? "").trim() !== "Send OTP"`);
        const text = (await shown.textContent()) ?? "";
        await page.close();
        return text;
      };
      // The simulator's stand-in customer for AOPay's example CIBIL id: its question names the masked mobile.
      expect(await clickSend(stack.graphqlUrl)).toContain("The One Time Password is sent to *********");
      // Nothing listens on port 1 (as when the server is down or refuses the origin): no answer, no request id.
      expect(await clickSend("http://127.0.0.1:1/graphql")).toContain(hint);
    } finally {
      await browser.close();
      await site.close();
      await stack.stop();
    }
  }, 180_000);
  it("runs docs/clients.md's React files in Chromium: one SMS per action, after a lost answer and a second click, without crypto.randomUUID", async () => {
    assertChromiumInstalled();
    const [sendOtp] = reactSnippets();
    // Lenient budgets (no cooldown): a second Idempotency-Key for the same action would reach the simulator.
    const stack = await startTestStack();
    const site = await startStaticServer(join(app, "dist"));
    const browser = await launchChromium();
    try {
      writeFileSync(join(app, "src/SendOtp.tsx"), sendOtp.replace("http://localhost:4000/graphql", stack.graphqlUrl));
      await npm("run", "build");
      const page = await browser.newPage();
      // As on a page opened at http://<LAN IP> (not a secure context): no crypto.randomUUID.
      await page.addInitScript("delete Crypto.prototype.randomUUID");
      const keys: string[] = [];
      page.on("request", (r) => {
        if (r.method() === "POST") keys.push(r.headers()["idempotency-key"] ?? "none");
      });
      const sends = () => stack.simulator!.calls("cibil.generateOtp");
      const shown = () => page.locator("p").textContent();
      // The answer is lost on its way back: the request reached the server, which sent the OTP.
      await page.route("**/graphql", async (route) => {
        await route.fetch();
        await route.abort("connectionreset");
      });
      await page.goto(site.url);
      const button = page.getByRole("button", { name: "Send OTP" });
      await button.click();
      await page.waitForFunction(`document.querySelector("p")?.textContent.trim() !== "Send OTP"`);
      expect({ shown: await shown(), sends: sends() }).toEqual({
        shown: expect.stringContaining("Failed to fetch"),
        sends: 1,
      });
      // The user clicks again: the same action, so the same key, and the server replays the first answer.
      await page.unrouteAll();
      await button.click();
      await page.waitForFunction(`document.querySelector("p")?.textContent.includes("*********")`);
      expect({ keys: new Set(keys).size, posts: keys.length, sends: sends() }).toEqual({ keys: 1, posts: 2, sends: 1 });
      expect(keys[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      // Two clicks before React re-renders the disabled button (one task): one request.
      await page.evaluate(`{ const b = document.querySelector("button"); b.click(); b.click(); }`);
      await page.waitForTimeout(500);
      await page.waitForFunction(`!document.querySelector("button").disabled`);
      expect({ posts: keys.length, sends: sends(), shown: await shown() }).toEqual({
        posts: 3,
        sends: 2,
        shown: expect.stringContaining("The One Time Password is sent to *********"),
      });
    } finally {
      await browser.close();
      await site.close();
      await stack.stop();
    }
  }, 180_000);
  // A key stands for one input: kept after a lost answer for one customer, it went with the next customer's input,
  // and the server refused it (422 IDEMPOTENCY_KEY_REUSED) instead of sending that customer's OTP.
  it("runs the React SendOtp in Chromium: after a lost answer, new props send with a new key", async () => {
    assertChromiumInstalled();
    const [sendOtp, main] = reactSnippets();
    // Not the docs' main.tsx: a page whose button gives the pasted SendOtp another customer's props.
    const driver = `import { ApolloProvider } from "@apollo/client/react";
import { StrictMode, useState } from "react";
import { createRoot } from "react-dom/client";
import { client, SendOtp } from "./SendOtp";
function App() {
  const [customer, setCustomer] = useState({ cibilId: "102277130", accessToken: "123456542130" });
  const next = () => setCustomer({ cibilId: "102277131", accessToken: "123456542131" });
  const nextButton = <button onClick={next}>Next customer</button>;
  return <ApolloProvider client={client}><SendOtp {...customer} />{nextButton}</ApolloProvider>;
}
createRoot(document.getElementById("root")!).render(<StrictMode><App /></StrictMode>);
`;
    const stack = await startTestStack();
    const site = await startStaticServer(join(app, "dist"));
    const browser = await launchChromium();
    try {
      mkdirSync(join(app, "src"), { recursive: true });
      writeFileSync(join(app, "src/SendOtp.tsx"), sendOtp.replace("http://localhost:4000/graphql", stack.graphqlUrl));
      writeFileSync(join(app, "src/main.tsx"), driver);
      await npm("run", "build");
      const page = await browser.newPage();
      const posts: { key: string; cibilId: string }[] = [];
      page.on("request", (r) => {
        if (r.method() !== "POST") return;
        const body = r.postDataJSON() as { variables: { input: { cibilId: string } } };
        posts.push({ key: r.headers()["idempotency-key"] ?? "none", cibilId: body.variables.input.cibilId });
      });
      const sends = () => stack.simulator!.calls("cibil.generateOtp");
      const shown = () => page.locator("p").textContent();
      await page.route("**/graphql", async (route) => {
        await route.fetch(); // the first customer's OTP goes out, its answer is lost
        await route.abort("connectionreset");
      });
      await page.goto(site.url);
      await page.getByRole("button", { name: "Send OTP" }).click();
      await page.waitForFunction(`document.querySelector("p")?.textContent.includes("Failed to fetch")`);
      await page.unrouteAll();
      await page.getByRole("button", { name: "Next customer" }).click();
      await page.getByRole("button", { name: "Send OTP" }).click();
      await page.waitForFunction(`!document.querySelector("p")?.textContent.includes("Failed to fetch")`);
      await page.waitForFunction(`!document.querySelector("p button").disabled`);
      expect({ shown: await shown(), sends: sends(), cibilIds: posts.map((p) => p.cibilId) }).toEqual({
        shown: expect.stringContaining("The One Time Password is sent to *********"),
        sends: 2,
        cibilIds: ["102277130", "102277131"],
      });
      expect(new Set(posts.map((p) => p.key)).size).toBe(2);
    } finally {
      await browser.close();
      await site.close();
      await stack.stop();
      writeFileSync(join(app, "src/main.tsx"), main); // the docs' own, for whatever runs next
    }
  }, 180_000);
});
