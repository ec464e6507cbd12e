import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from "@apollo/client";
import {
  createRequestMetaLink,
  createTrustedDocumentLink,
  possibleTypes,
  typePolicies,
} from "@aopay-graphql/client/react";

/** The GraphQL endpoint: VITE_GRAPHQL_URL when Vite started (serving or building), else where `npm start` listens. */
export const GRAPHQL_URL = import.meta.env.VITE_GRAPHQL_URL || "http://localhost:4000/graphql";

export const client = new ApolloClient({
  // createRequestMetaLink copies x-request-id and Idempotent-Replayed into each result (read with requestMetaOf);
  // createTrustedDocumentLink sends each operation by its id on the server's trusted-document list, which a server
  // with TRUSTED_DOCUMENTS=enforce requires (and any server accepts).
  link: ApolloLink.from([createRequestMetaLink(), createTrustedDocumentLink(), new HttpLink({ uri: GRAPHQL_URL })]),
  // possibleTypes lets the cache match the fragments on our result unions (FailureFields on Failure); typePolicies
  // keeps CibilAnswerChoice (keyed by AOPay's id, not promised unique) inside its result, not a cache entry of its own.
  cache: new InMemoryCache({ possibleTypes, typePolicies }),
});
