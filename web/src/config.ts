/**
 * The app's run-time configuration, read from config.json beside index.html: the local stack
 * serves it from its own settings, a deploy step writes it in AWS. Nothing here is bundled, so
 * one build runs anywhere.
 */

export interface StaffPoolConfig {
  region: string;
  userPoolId: string;
  clientId: string;
}

export interface AppConfig {
  /** The API's base URL; empty means the origin the app is served from. */
  apiBaseUrl: string;
  /** Set once staff accounts exist (Cognito); absent means sign-in with a merchant API key. */
  staffPool: StaffPoolConfig | null;
  /** "local" or "aws": shown on the sign-in screen so nobody mistakes one for the other. */
  environment: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function parseConfig(raw: unknown): AppConfig {
  if (!isRecord(raw)) throw new Error("config.json is not an object");
  const apiBaseUrl = raw.apiBaseUrl ?? "";
  if (typeof apiBaseUrl !== "string") throw new Error("config.json: apiBaseUrl must be a string");
  let staffPool: StaffPoolConfig | null = null;
  const pool = raw.staffPool;
  if (isRecord(pool)) {
    const { region, userPoolId, clientId } = pool;
    if (typeof region !== "string" || typeof userPoolId !== "string" || typeof clientId !== "string") {
      throw new Error("config.json: staffPool needs region, userPoolId and clientId");
    }
    staffPool = { region, userPoolId, clientId };
  }
  const environment = typeof raw.environment === "string" ? raw.environment : "aws";
  return { apiBaseUrl: apiBaseUrl.replace(/\/+$/, ""), staffPool, environment };
}

export async function loadConfig(): Promise<AppConfig> {
  const reply = await fetch(`${import.meta.env.BASE_URL}config.json`, { cache: "no-store" });
  if (!reply.ok) throw new Error(`config.json: HTTP ${reply.status}`);
  return parseConfig(await reply.json());
}
