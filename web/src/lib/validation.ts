/**
 * The API's validation messages (pydantic's English) in the reader's language. Unknown messages
 * are shown as they came: never hidden.
 */
import type { TFunction } from "i18next";

type Rule = [RegExp, (t: TFunction, match: RegExpMatchArray) => string];

const RULES: Rule[] = [
  [/^Input should be less than or equal to (.+)$/, (t, m) => t("validation.max", { limit: m[1] ?? "" })],
  [/^Input should be greater than or equal to (.+)$/, (t, m) => t("validation.min", { limit: m[1] ?? "" })],
  [/^Input should be less than (.+)$/, (t, m) => t("validation.lessThan", { limit: m[1] ?? "" })],
  [/^Input should be greater than (.+)$/, (t, m) => t("validation.greaterThan", { limit: m[1] ?? "" })],
  [/^Field required$/, (t) => t("validation.required")],
  [/^Input should be a valid integer/, (t) => t("validation.integer")],
  [/^Input should be a valid number/, (t) => t("validation.number")],
  [/^String should match pattern/, (t) => t("validation.pattern")],
  [/^String should have at most (\d+) characters?$/, (t, m) => t("validation.maxLength", { limit: m[1] ?? "" })],
  [/^String should have at least (\d+) characters?$/, (t, m) => t("validation.minLength", { limit: m[1] ?? "" })],
  [/^List should have at most (\d+) items?/, (t, m) => t("validation.maxItems", { limit: m[1] ?? "" })],
  [/^List should have at least (\d+) items?/, (t, m) => t("validation.minItems", { limit: m[1] ?? "" })],
  [/^Input should be (.+ or .+)$/, (t, m) => t("validation.oneOf", { options: m[1] ?? "" })],
  [/^Extra inputs are not permitted$/, (t) => t("validation.extra")],
];

/** Model-level rules of the program (loyalty/domain/program.py), by their English text. */
const DOMAIN: Record<string, string> = {
  "ends_at must be after starts_at": "validation.domain.promotionDates",
  "a multiplier promotion needs 'multiplier'": "validation.domain.promotionMultiplier",
  "a fixed_bonus promotion needs 'bonus_points'": "validation.domain.promotionBonus",
  "the first tier is where everyone starts: its threshold must be 0": "validation.domain.firstTierZero",
  "tier thresholds must increase strictly": "validation.domain.tiersIncrease",
  "tier names must be unique": "validation.domain.tierNamesUnique",
  "promotion ids must be unique": "validation.domain.promotionIdsUnique",
  "cashback mode needs cashback_percent > 0": "validation.domain.cashbackPercent",
  "discount mode needs discount_percent > 0": "validation.domain.discountPercent",
  "stamp card ids must be unique": "validation.domain.stampIdsUnique",
};

export function localizeProblem(message: string, t: TFunction): string {
  const plain = message.replace(/^Value error, /, "");
  const domain = DOMAIN[plain];
  if (domain !== undefined) return t(domain as never);
  for (const [pattern, render] of RULES) {
    const match = plain.match(pattern);
    if (match !== null) return render(t, match);
  }
  return plain;
}
