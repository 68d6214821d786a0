/** The program as the editor holds it, and the way back to the API's shape and paths. */
import type { Schemas } from "../../api/client";
import type { FieldProblem } from "../../api/errors";

export type ProgramOut = Schemas["Program-Output"];
export type ProgramIn = Schemas["Program-Input"];
export type Tiers = Schemas["Tiers-Input"];
export type TierLevel = Schemas["TierLevel-Input"];
export type Promotion = Schemas["Promotion-Input"];
export type StampCard = Schemas["StampCard"];

export interface MultiplierRow {
  category: string;
  multiplier: number | string;
}

/** Category multipliers are a map in the API and rows in the editor (so a row can be renamed). */
export type ProgramForm = Omit<ProgramIn, "category_multipliers"> & {
  multipliers: MultiplierRow[];
  excluded_categories: string[];
  promotions: Promotion[];
  stamp_cards: StampCard[];
  tiers: Tiers | null;
};

export function toForm(program: ProgramOut): ProgramForm {
  const { category_multipliers: multipliers = {}, ...rest } = program;
  return {
    ...(rest as unknown as ProgramIn),
    excluded_categories: program.excluded_categories ?? [],
    promotions: (program.promotions ?? []),
    stamp_cards: program.stamp_cards ?? [],
    tiers: (program.tiers ?? null),
    multipliers: Object.entries(multipliers).map(([category, multiplier]) => ({ category, multiplier })),
  };
}

export function toProgram(form: ProgramForm): ProgramIn {
  const { multipliers, ...rest } = form;
  return {
    ...rest,
    category_multipliers: Object.fromEntries(multipliers.map((row) => [row.category.trim(), row.multiplier])),
  };
}

export const DEFAULT_TIERS: Tiers = {
  measure: "spend",
  window_months: 12,
  review_months: 12,
  grace_days: 0,
  levels: [
    { name: "bronze", threshold: 0, earn_multiplier: 1, discount_percent: 0, perks: [] },
    { name: "silver", threshold: 1_000_000, earn_multiplier: 1.5, discount_percent: 0, perks: [] },
    { name: "gold", threshold: 3_000_000, earn_multiplier: 2, discount_percent: 0, perks: [] },
  ],
};

/**
 * The API's field paths ("program.tiers.levels.0.threshold") as the editor's paths
 * ("tiers.levels.0.threshold"); problems about the whole program go under "".
 */
export function formPath(field: string, form: ProgramForm): string {
  if (field === "body" || field === "program") return "";
  const path = field.startsWith("program.") ? field.slice("program.".length) : field;
  const multiplier = /^category_multipliers(?:\.(.+))?$/.exec(path);
  if (multiplier !== null) {
    const category = multiplier[1];
    if (category === undefined) return "multipliers";
    const index = form.multipliers.findIndex((row) => row.category.trim() === category);
    return index < 0 ? "multipliers" : `multipliers.${index}.multiplier`;
  }
  return path;
}

export function problemsByPath(problems: FieldProblem[], form: ProgramForm): Record<string, string[]> {
  const byPath: Record<string, string[]> = {};
  for (const problem of problems) {
    const path = formPath(problem.field, form);
    (byPath[path] ??= []).push(problem.message);
  }
  return byPath;
}

/** ISO instant ⇄ the value of an <input type="datetime-local"> (local time, minutes). */
export function isoToLocalInput(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}

export function localInputToIso(value: string): string {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toISOString();
}
