import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { startTestStack, TEST_API_KEYS_ENTRY, type TestStack } from "./stack";

export const TOKEN_ISSUER = "https://issuer.example/";
export const TOKEN_AUDIENCE = "aopay-graphql";

/** Our server taking both API keys (TEST_API_KEY) and bearer tokens, and how to sign a token it accepts. */
export interface TokenStack {
  readonly t: TestStack;
  /** An `at+jwt` for TOKEN_ISSUER and TOKEN_AUDIENCE, signed with the key the JWKS serves (kid `k1`, RS256). */
  sign(claims: Record<string, unknown>, expiresAt?: number | string): Promise<string>;
  stop(): Promise<void>;
}

/**
 * A scripted identity provider (a node:http JWKS with one RS256 key) and our server in front of it, with authentication
 * required, TEST_API_KEYS_ENTRY's API key and AUTH_JWKS_URL, AUTH_JWT_ISSUER and AUTH_JWT_AUDIENCE set. `jwksDown`:
 * the identity provider answers 503 from the start, so no key set is ever held and every bearer request is refused
 * 503 AUTH_UNAVAILABLE (`sign` still makes a token it would take). For a JWKS that rotates or changes under a test,
 * see test/e2e/jwks-operation.test.ts's own.
 */
export async function startTokenStack(options: { jwksDown?: boolean } = {}): Promise<TokenStack> {
  const pair = await generateKeyPair("RS256");
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: "k1", alg: "RS256" };
  const jwks = createServer((_req, res) =>
    options.jwksDown ? res.writeHead(503).end("down") : res.writeHead(200).end(JSON.stringify({ keys: [jwk] })),
  );
  await new Promise<void>((r) => jwks.listen(0, "127.0.0.1", r));
  const closeJwks = () => new Promise((r) => jwks.close(r));
  try {
    const t = await startTestStack({
      AUTH_REQUIRED: "true",
      API_KEYS: TEST_API_KEYS_ENTRY,
      AUTH_JWKS_URL: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`,
      AUTH_JWT_ISSUER: TOKEN_ISSUER,
      AUTH_JWT_AUDIENCE: TOKEN_AUDIENCE,
    });
    return {
      t,
      sign: (claims, expiresAt = "5m") =>
        new SignJWT(claims)
          .setProtectedHeader({ alg: "RS256", typ: "at+jwt", kid: "k1" })
          .setIssuer(TOKEN_ISSUER)
          .setAudience(TOKEN_AUDIENCE)
          .setExpirationTime(expiresAt)
          .sign(pair.privateKey),
      stop: async () => {
        await t.stop();
        await closeJwks();
      },
    };
  } catch (error) {
    await closeJwks();
    throw error;
  }
}
