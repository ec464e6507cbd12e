/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** The GraphQL endpoint, read at build time. Defaults to http://localhost:4000/graphql (npm start). */
  readonly VITE_GRAPHQL_URL?: string;
}
