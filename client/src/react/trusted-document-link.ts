import type { ApolloLink } from "@apollo/client";
import { createPersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { type DocumentNode, getOperationAST } from "graphql";
import { trustedDocumentIds } from "../generated/trusted-documents.js";

const IDS: Readonly<Record<string, string>> = trustedDocumentIds;

/**
 * An Apollo link that sends each operation by its id on the server's trusted-document list instead of its text:
 * required when the server runs with TRUSTED_DOCUMENTS=enforce (docs/security-requirements.md A11), and smaller
 * requests either way. Put it before the HttpLink:
 * `ApolloLink.from([createRequestMetaLink(), createTrustedDocumentLink(), httpLink])`.
 *
 * It is Apollo's persisted-query link with the ids generated next to the hooks (`trustedDocumentIds`), so nothing is
 * hashed in the browser. An operation that is not on the list fails at once, naming it: add it to
 * client/operations and run `npm run codegen`. Apollo's link sends the full text after a `PersistedQueryNotFound`
 * answer, which this server gives only with TRUSTED_DOCUMENTS=off (the document did not run, so a mutation is not
 * sent twice); with `enforce` an unknown id is refused as UNTRUSTED_DOCUMENT and nothing is resent.
 */
export function createTrustedDocumentLink(): ApolloLink {
  return createPersistedQueryLink({ generateHash: trustedDocumentIdOf });
}

/** The id of an operation on the trusted-document list; throws for one that is not on it. */
export function trustedDocumentIdOf(document: DocumentNode): string {
  const name = getOperationAST(document)?.name?.value;
  const id = name === undefined ? undefined : IDS[name];
  if (id === undefined) {
    throw new Error(
      `Operation ${name ?? "(anonymous)"} is not on the trusted-document list: add it to client/operations and run npm run codegen.`,
    );
  }
  return id;
}
