/**
 * Signing in as a person of the shop: e-mail and password (a Cognito account the owner invited),
 * through the API's /v1/staff/auth/* routes. The API answers with short-lived tokens; the role
 * comes from GET /v1/staff/me and decides what the app shows (the API enforces the same).
 * The first sign-in with the e-mailed temporary password asks for a new password first.
 */
import { type ApiClient, createApi, unwrap } from "../api/client";
import type { Role, Session, SessionMethod } from "./session";

const METHOD = "staff";
/** Refresh the access token this long before it expires, so no request carries a stale one. */
const REFRESH_MARGIN_MS = 60_000;

interface Tokens {
  access: string;
  refresh: string;
  expiresAt: number; // epoch milliseconds
}

interface Person {
  email: string;
  name: string | null;
  role: Role;
}

type Answer = Awaited<ReturnType<typeof signInRequest>>;

function signInRequest(api: ApiClient, email: string, password: string) {
  return unwrap(api.POST("/v1/staff/auth/sign-in", { body: { email, password } }));
}

function tokensOf(answer: Answer): Tokens {
  if (answer.access_token == null || answer.refresh_token == null) throw new Error("sign-in answered without tokens");
  return {
    access: answer.access_token,
    refresh: answer.refresh_token,
    expiresAt: Date.now() + (answer.expires_in ?? 900) * 1000,
  };
}

function isRole(value: unknown): value is Role {
  return value === "owner" || value === "manager" || value === "cashier";
}

function staffSession(baseUrl: string, person: Person, initial: Tokens): Session {
  let tokens = initial;
  let refreshing: Promise<Tokens> | null = null;
  const anonymous = createApi(baseUrl, () => Promise.resolve({}));
  const refresh = async (): Promise<Tokens> => {
    const answer = await unwrap(
      anonymous.POST("/v1/staff/auth/refresh", { body: { refresh_token: tokens.refresh } }),
    );
    // A refresh answers a new access token; the refresh token stays the same.
    return tokensOf({ ...answer, refresh_token: answer.refresh_token ?? tokens.refresh });
  };
  return {
    method: METHOD,
    role: person.role,
    label: person.name ?? person.email,
    async credentials() {
      if (Date.now() > tokens.expiresAt - REFRESH_MARGIN_MS) {
        refreshing ??= refresh().finally(() => {
          refreshing = null;
        });
        try {
          tokens = await refreshing;
        } catch {
          // The refresh token ended (signed out elsewhere, reset, 12 hours): the 401 that follows
          // brings the sign-in screen back.
        }
      }
      return { Authorization: `Bearer ${tokens.access}` };
    },
    persisted: () => ({ baseUrl, person, tokens }),
    async end() {
      await createApi(baseUrl, () => Promise.resolve({ Authorization: `Bearer ${tokens.access}` })).POST(
        "/v1/staff/auth/sign-out",
      );
    },
  };
}

export const staffMethod: SessionMethod = {
  name: METHOD,
  restore(saved) {
    const { baseUrl, person, tokens } = saved as { baseUrl?: unknown; person?: Partial<Person>; tokens?: Partial<Tokens> };
    if (typeof baseUrl !== "string" || person === undefined || tokens === undefined) return null;
    if (!isRole(person.role) || typeof person.email !== "string") return null;
    if (typeof tokens.access !== "string" || typeof tokens.refresh !== "string") return null;
    if (typeof tokens.expiresAt !== "number") return null;
    const who: Person = { email: person.email, name: typeof person.name === "string" ? person.name : null, role: person.role };
    return staffSession(baseUrl, who, { access: tokens.access, refresh: tokens.refresh, expiresAt: tokens.expiresAt });
  },
};

/** The outcome of a sign-in: a session, or the first sign-in's request for a new password. */
export type StaffSignInResult =
  | { kind: "signed-in"; session: Session }
  | { kind: "new-password"; email: string; challenge: string };

async function sessionFor(baseUrl: string, answer: Answer): Promise<Session> {
  const tokens = tokensOf(answer);
  const me = await unwrap(
    createApi(baseUrl, () => Promise.resolve({ Authorization: `Bearer ${tokens.access}` })).GET("/v1/staff/me"),
  );
  return staffSession(baseUrl, { email: me.email, name: me.name ?? null, role: me.role }, tokens);
}

export async function signInStaff(baseUrl: string, email: string, password: string): Promise<StaffSignInResult> {
  const api = createApi(baseUrl, () => Promise.resolve({}));
  const answer = await signInRequest(api, email.trim(), password);
  if (answer.status === "new_password_required") {
    return { kind: "new-password", email: email.trim(), challenge: answer.session ?? "" };
  }
  return { kind: "signed-in", session: await sessionFor(baseUrl, answer) };
}

export async function setFirstPassword(
  baseUrl: string,
  email: string,
  challenge: string,
  newPassword: string,
): Promise<Session> {
  const api = createApi(baseUrl, () => Promise.resolve({}));
  const answer = await unwrap(
    api.POST("/v1/staff/auth/new-password", { body: { email, session: challenge, new_password: newPassword } }),
  );
  return sessionFor(baseUrl, answer);
}
