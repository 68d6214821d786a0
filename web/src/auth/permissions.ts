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
  | "webhooks"
  | "access";

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
  "access",
];

const ALLOWED: Record<Role, ReadonlySet<Screen>> = {
  owner: new Set(SCREENS),
  // Webhooks are the owner's (the API lets managers read them, and only owners change them).
  manager: new Set(SCREENS.filter((screen) => screen !== "webhooks" && screen !== "access")),
  cashier: new Set<Screen>(["till", "members"]),
};

/** Member care (edit, adjust, cards, block) is for managers and owners; a cashier finds and serves. */
export function canCareForMembers(role: Role): boolean {
  return role !== "cashier";
}

/** Exports carry personal data in clear: the owner's alone (the API refuses anyone else). */
export function canExport(role: Role): boolean {
  return role === "owner";
}

export function canOpen(role: Role, screen: Screen): boolean {
  return ALLOWED[role].has(screen);
}

/** Where a role lands after signing in. */
export function homeScreen(role: Role): Screen {
  return role === "cashier" ? "till" : "overview";
}
