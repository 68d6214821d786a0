/**
 * The one way screens reach the API: a client typed from openapi.json (openapi-typescript
 * generates schema.d.ts at every build, so a contract change breaks the type-check), with the
 * session's credentials added to every request and every error turned into an ApiError.
 */
import createClient, { type Middleware } from "openapi-fetch";

import { apiErrorFrom } from "./errors";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];
export type ApiClient = ReturnType<typeof createClient<paths>>;

export type CredentialSource = () => Promise<Record<string, string>>;

/**
 * ``onUnauthorized`` runs when the API refuses the credentials (a revoked key, an expired
 * session), so the app can ask to sign in again instead of failing screen by screen.
 */
export function createApi(baseUrl: string, credentials: CredentialSource, onUnauthorized?: () => void): ApiClient {
  const client = createClient<paths>({ baseUrl });
  const auth: Middleware = {
    async onRequest({ request }) {
      for (const [name, value] of Object.entries(await credentials())) request.headers.set(name, value);
      return request;
    },
    onResponse({ response }) {
      if (response.status === 401) onUnauthorized?.();
      return response;
    },
  };
  client.use(auth);
  return client;
}

interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The body of a successful answer, or an ApiError in the API's own words. */
export async function unwrap<T>(call: Promise<Answer<T>>): Promise<T> {
  const { data, error, response } = await call;
  if (response.ok && data !== undefined) return data;
  throw apiErrorFrom(response.status, error);
}
