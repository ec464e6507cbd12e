import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from "@apollo/client";
import { createRequestMetaLink, possibleTypes } from "@aopay-graphql/client/react";

/** The GraphQL endpoint: VITE_GRAPHQL_URL at build time, else where `npm start` listens. */
export const GRAPHQL_URL = import.meta.env.VITE_GRAPHQL_URL || "http://localhost:4000/graphql";

export const client = new ApolloClient({
  // createRequestMetaLink copies x-request-id and Idempotent-Replayed into each result (read with requestMetaOf).
  link: ApolloLink.from([createRequestMetaLink(), new HttpLink({ uri: GRAPHQL_URL })]),
  // possibleTypes lets the cache match the fragments on our result unions (FailureFields on Failure).
  cache: new InMemoryCache({ possibleTypes }),
});
