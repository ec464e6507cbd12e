import { buildSchema, parse } from "graphql";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { plugin } = require("../../../codegen/apollo-react-hooks.js") as {
  plugin: (schema: unknown, docs: Array<{ document: unknown }>, config: Record<string, string>) => string;
};

const schema = buildSchema("type Query { a: Int } type Mutation { b: Int } type Subscription { c: Int }");

describe("apollo-react-hooks codegen plugin", () => {
  it("emits one bound hook per named query and mutation, sorted, with imports", () => {
    const docs = [
      { document: parse("mutation Zeta { b } query Alpha { a } fragment F on Query { a }") },
      { document: parse("subscription Sub { c } query { a }") },
    ];
    const out = plugin(schema, docs, {});
    expect(out).toContain('import { bindMutation, bindQuery } from "../bind";');
    expect(out).toContain('import { AlphaDocument, ZetaDocument } from "./graphql";');
    expect(out).toContain("export const useAlphaQuery = bindQuery(AlphaDocument);");
    expect(out).toContain("export const useZetaMutation = bindMutation(ZetaDocument);");
    expect(out.indexOf("useAlphaQuery")).toBeLessThan(out.indexOf("useZetaMutation"));
    expect(out).not.toContain("Sub");
    expect(out).toMatch(/GENERATED/);
  });

  it('binds every operation with variables with NO_CACHE (fetchPolicy "no-cache"), the others without defaults', () => {
    const withVariables = buildSchema("type Query { a(id: String): Int } type Mutation { b(id: String): Int }");
    const docs = [
      {
        document: parse(
          "query Alpha($id: String) { a(id: $id) } query Beta { a } mutation M($id: String) { b(id: $id) }",
        ),
      },
    ];
    const out = plugin(withVariables, docs, {});
    expect(out).toContain('import { NO_CACHE, bindMutation, bindQuery } from "../bind";');
    expect(out).toContain("export const useAlphaQuery = bindQuery(AlphaDocument, NO_CACHE);");
    expect(out).toContain("export const useBetaQuery = bindQuery(BetaDocument);");
    expect(out).toContain("export const useMMutation = bindMutation(MDocument, NO_CACHE);");
  });

  it("refuses operation names client-preset would rename, rather than import a document that does not exist", () => {
    for (const name of ["verifyAepsOtp", "VerifyAEPSOtp", "Verify_Otp"]) {
      expect(() => plugin(schema, [{ document: parse(`mutation ${name} { b }`) }], {})).toThrow(
        /must be plain PascalCase/,
      );
    }
    expect(plugin(schema, [{ document: parse("mutation VerifyAepsOtpV2 { b }") }], {})).toContain(
      "useVerifyAepsOtpV2Mutation = bindMutation(VerifyAepsOtpV2Document)",
    );
  });

  it("honours documentsImport and bindImport", () => {
    const out = plugin(schema, [{ document: parse("mutation M { b }") }], {
      documentsImport: "./docs",
      bindImport: "@x/bind",
    });
    expect(out).toContain('import { bindMutation } from "@x/bind";');
    expect(out).toContain('import { MDocument } from "./docs";');
  });

  it("refuses duplicate operation names", () => {
    expect(() =>
      plugin(schema, [{ document: parse("query A { a }") }, { document: parse("query A { a }") }], {}),
    ).toThrow(/used twice/);
  });

  it("emits an empty module when there is nothing to bind", () => {
    expect(plugin(schema, [], {})).toContain("export {};");
  });
});
