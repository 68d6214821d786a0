import { createContext, type ReactNode, useContext, useMemo, useState, useSyncExternalStore } from "react";

import { type ApiClient, createApi } from "../api/client";
import type { AppConfig } from "../config";
import { apiKeyMethod } from "./apiKey";
import { staffMethod } from "./staff";
import { clearSession, restoreSession, type Session, type SessionMethod, saveSession } from "./session";

/** Every way of signing in the app knows. */
export const SESSION_METHODS: readonly SessionMethod[] = [staffMethod, apiKeyMethod];

/** The current session, outside React so the API client (created once) always sees the latest. */
class SessionStore {
  private session: Session | null;
  private readonly listeners = new Set<() => void>();

  constructor(initial: Session | null) {
    this.session = initial;
  }

  readonly get = (): Session | null => this.session;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  set(next: Session | null): void {
    this.session = next;
    for (const listener of this.listeners) listener();
  }
}

interface SessionState {
  config: AppConfig;
  session: Session | null;
  /** The API with the current session's credentials. */
  api: ApiClient;
  /** An API client with the given credentials (for checking them before a session exists). */
  apiWith: (credentials: Record<string, string>) => ApiClient;
  signIn: (session: Session, remember: boolean) => void;
  signOut: () => void;
}

const SessionContext = createContext<SessionState | null>(null);

export function SessionProvider({ config, children }: { config: AppConfig; children: ReactNode }) {
  const [store] = useState(() => new SessionStore(restoreSession(SESSION_METHODS)));
  const session = useSyncExternalStore(store.subscribe, store.get);
  const value = useMemo(() => {
    const signOut = () => {
      // Best effort: the tokens end at the server too; the app forgets them either way.
      store
        .get()
        ?.end?.()
        .catch(() => undefined);
      clearSession();
      store.set(null);
    };
    const api = createApi(
      config.apiBaseUrl,
      () => store.get()?.credentials() ?? Promise.resolve({}),
      // The credentials stopped working (a revoked key): back to the sign-in screen.
      () => {
        if (store.get() !== null) signOut();
      },
    );
    return {
      config,
      api,
      apiWith: (credentials: Record<string, string>) =>
        createApi(config.apiBaseUrl, () => Promise.resolve(credentials)),
      signIn: (next: Session, remember: boolean) => {
        saveSession(next, remember);
        store.set(next);
      },
      signOut,
    };
  }, [config, store]);
  const state = useMemo(() => ({ ...value, session }), [value, session]);
  return <SessionContext.Provider value={state}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionState {
  const state = useContext(SessionContext);
  if (state === null) throw new Error("useSession outside SessionProvider");
  return state;
}

/** The API client of a signed-in screen. */
export function useApi(): ApiClient {
  return useSession().api;
}
