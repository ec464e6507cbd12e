/**
 * Adds `extensions.requestId` to every error of a GraphQL-shaped JSON error body that lacks one: Apollo Server answers
 * some refusals (CSRF prevention, batching, malformed bodies) before its request pipeline, where requestPlugin never
 * runs. Other payloads are returned unchanged. Only called for error statuses, never on the success path.
 */
export function withRequestId(payload: string, requestId: string): string {
  let body: unknown;
  try {
    body = JSON.parse(payload);
  } catch {
    return payload;
  }
  const errors = (body as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors)) return payload;
  for (const error of errors) {
    if (error !== null && typeof error === "object") {
      const e = error as { extensions?: Record<string, unknown> };
      e.extensions = { ...e.extensions, requestId };
    }
  }
  return JSON.stringify(body);
}
