import { createHash } from "node:crypto";
import { TRUSTED_DOCUMENTS } from "../../src/generated/trusted-documents";
import { type TrustedDocumentList, trustedDocumentList } from "../../src/graphql/trusted-documents";

/** A document's id on the trusted list: the SHA-256 of its text, hex (trusted-documents.ts). */
export const documentId = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex");

/** The generated trusted list and `texts` beside it: documents no generated client sends (startTestStack's option). */
export function listWith(texts: readonly string[]): TrustedDocumentList {
  const listed = texts.map((body) => ({ id: documentId(body), body }));
  return trustedDocumentList({ ...TRUSTED_DOCUMENTS, operations: [...TRUSTED_DOCUMENTS.operations, ...listed] });
}
