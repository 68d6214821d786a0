/**
 * One interface for "who is using the app": the screens see a Session (a role, a label, and the
 * credentials every API call carries) and never how it was obtained. Today a session comes from a
 * merchant API key (apiKey.ts: a till tablet bound to its key, or the owner's key) or from a
 * staff account (staff.ts: Cognito tokens through the API, the role from GET /v1/staff/me).
 */

export type Role = "owner" | "manager" | "cashier";

export const ROLES: readonly Role[] = ["owner", "manager", "cashier"];

export interface Session {
  readonly method: string;
  readonly role: Role;
  /** Who or what is signed in, for the header: "Касса · ключ …a1b2". */
  readonly label: string;
  /** Headers for the next API call (a token-based method refreshes its token here). */
  credentials(): Promise<Record<string, string>>;
  /** What to keep so the session survives a reload; restored by its method's restore(). */
  persisted(): Record<string, unknown>;
  /** Ends the session at the server too (a staff account's tokens), when there is one. */
  end?(): Promise<void>;
}

/** A way to sign in. Each knows how to bring back the sessions it created. */
export interface SessionMethod {
  readonly name: string;
  restore(saved: Record<string, unknown>): Session | null;
}

const STORAGE_KEY = "loyalty.session";

function storages(): Storage[] {
  return [window.sessionStorage, window.localStorage];
}

/** Keep the session for this tab, or on this device too ("remember": a till tablet). */
export function saveSession(session: Session, remember: boolean): void {
  clearSession();
  const storage = remember ? window.localStorage : window.sessionStorage;
  storage.setItem(STORAGE_KEY, JSON.stringify({ method: session.method, ...session.persisted() }));
}

export function clearSession(): void {
  for (const storage of storages()) storage.removeItem(STORAGE_KEY);
}

export function restoreSession(methods: readonly SessionMethod[]): Session | null {
  for (const storage of storages()) {
    const raw = storage.getItem(STORAGE_KEY);
    if (raw === null) continue;
    try {
      const saved = JSON.parse(raw) as unknown;
      if (typeof saved !== "object" || saved === null) continue;
      const record = saved as Record<string, unknown>;
      const method = methods.find((m) => m.name === record.method);
      const session = method?.restore(record) ?? null;
      if (session !== null) return session;
    } catch {
      storage.removeItem(STORAGE_KEY);
    }
  }
  return null;
}
