/**
 * Signing in with a merchant API key (X-Api-Key), until staff accounts exist. A key can do
 * everything its merchant can; "this device is a till" narrows the app to the cashier's screens,
 * for a tablet that stays at the counter bound to its key.
 */
import { type ApiClient, unwrap } from "../api/client";
import type { Role, Session, SessionMethod } from "./session";

const METHOD = "api-key";

function keySession(key: string, role: Role): Session {
  return {
    method: METHOD,
    role,
    label: `…${key.slice(-4)}`,
    credentials: () => Promise.resolve({ "X-Api-Key": key }),
    persisted: () => ({ key, role }),
  };
}

export const apiKeyMethod: SessionMethod = {
  name: METHOD,
  restore(saved) {
    const { key, role } = saved;
    if (typeof key !== "string" || key === "") return null;
    if (role !== "owner" && role !== "cashier") return null;
    return keySession(key, role);
  },
};

/**
 * Checks the key against the API (any merchant route answers 401 to a wrong one) and opens a
 * session with it. ``makeApi`` builds a client that sends the key being tried.
 */
export async function connectWithApiKey(
  key: string,
  tillOnly: boolean,
  makeApi: (credentials: Record<string, string>) => ApiClient,
): Promise<Session> {
  const trimmed = key.trim();
  const api = makeApi({ "X-Api-Key": trimmed });
  await unwrap(api.GET("/v1/program"));
  return keySession(trimmed, tillOnly ? "cashier" : "owner");
}
