/** What each role may open (the API enforces the same on every route: x-roles in openapi.json). */
import type { Role } from "./session";

export type Screen =
  | "overview"
  | "till"
  | "members"
  | "program"
  | "rewards"
  | "notifications"
  | "gift-cards"
  | "data"
  | "webhooks";

export const SCREENS: readonly Screen[] = [
  "overview",
  "till",
  "members",
  "program",
  "rewards",
  "notifications",
  "gift-cards",
  "data",
  "webhooks",
];

const ALLOWED: Record<Role, ReadonlySet<Screen>> = {
  owner: new Set(SCREENS),
  manager: new Set(SCREENS),
  cashier: new Set<Screen>(["till", "members"]),
};

export function canOpen(role: Role, screen: Screen): boolean {
  return ALLOWED[role].has(screen);
}

/** Where a role lands after signing in. */
export function homeScreen(role: Role): Screen {
  return role === "cashier" ? "till" : "overview";
}
