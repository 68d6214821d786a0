/**
 * What the overview computes from GET /v1/reports/kpis (typed by the generated client): month
 * arithmetic and the "before the program / after 3 months / after 6 months" comparison.
 */
import type { Schemas } from "../../api/client";

export type MonthlyKpi = Schemas["MonthKpis"];
export type CohortRow = Schemas["CohortKpis"];
export type KpiReport = Schemas["KpiReport"];

/** "2026-03" plus n months. */
export function addMonths(month: string, n: number): string {
  const [year = 0, mon = 1] = month.split("-").map(Number);
  const index = year * 12 + (mon - 1) + n;
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, "0")}`;
}

export type ComparedMetric = "aov_all_kopecks" | "purchases" | "revenue_kopecks" | "member_share" | "purchase_frequency";

export interface ComparisonRow {
  metric: ComparedMetric;
  money: boolean;
  percent: boolean;
  before: number | null;
  after3: number | null;
  after6: number | null;
}

/** Which months the comparison is made of: ``before`` are averaged, ``start`` is month 0. */
export interface Baseline {
  before: string[];
  start: string;
  /** True when the range holds months before the program's first member (a real "before"). */
  preProgram: boolean;
}

const BEFORE_MONTHS = 3;

/**
 * The rule (README, "The web app"): the program starts in the first month with a new member
 * (members_new > 0). "Before" is the average of up to three months just before it. When the range
 * has no such month (the program started earlier, or nobody has joined yet), the earliest month of
 * the range stands in as "before" and the months after it are counted from it; the screen says
 * which months it used, so nobody mistakes that for a pre-program baseline. Null: no months.
 */
export function baselineOf(months: MonthlyKpi[]): Baseline | null {
  const sorted = [...months].sort((a, b) => a.month.localeCompare(b.month));
  const first = sorted[0];
  if (first === undefined) return null;
  const start = sorted.find((m) => m.members_new > 0)?.month;
  const before = start === undefined ? [] : sorted.filter((m) => m.month < start).slice(-BEFORE_MONTHS);
  if (start !== undefined && before.length > 0) return { before: before.map((m) => m.month), start, preProgram: true };
  return { before: [first.month], start: first.month, preProgram: false };
}

function metricOf(month: MonthlyKpi, metric: ComparedMetric): number | null {
  const purchases = month.purchases_members + month.purchases_anonymous;
  switch (metric) {
    case "aov_all_kopecks":
      return month.aov_all_kopecks;
    case "purchases":
      return purchases;
    case "revenue_kopecks":
      return month.revenue_members_kopecks + month.revenue_anonymous_kopecks;
    case "member_share":
      return month.engagement_rate;
    case "purchase_frequency":
      return month.purchase_frequency;
  }
}

/** The mean of the figures that exist (a month without purchases has no average check). */
function mean(values: (number | null)[]): number | null {
  const present = values.filter((v): v is number => v !== null);
  return present.length === 0 ? null : present.reduce((sum, v) => sum + v, 0) / present.length;
}

const METRICS: [ComparedMetric, boolean, boolean][] = [
  ["aov_all_kopecks", true, false],
  ["purchases", false, false],
  ["revenue_kopecks", true, false],
  ["member_share", false, true],
  ["purchase_frequency", false, false],
];

/** The comparison rows; a column the data does not reach yet (or has no figure for) is null. */
export function beforeAfter(months: MonthlyKpi[], baseline: Baseline | null = baselineOf(months)): ComparisonRow[] {
  const byMonth = new Map(months.map((m) => [m.month, m]));
  const at = (n: number) => (baseline === null ? undefined : byMonth.get(addMonths(baseline.start, n)));
  const before = baseline === null ? [] : baseline.before.flatMap((m) => byMonth.get(m) ?? []);
  return METRICS.map(([metric, money, percent]) => {
    const after3 = at(3);
    const after6 = at(6);
    return {
      metric,
      money,
      percent,
      before: mean(before.map((m) => metricOf(m, metric))),
      after3: after3 === undefined ? null : metricOf(after3, metric),
      after6: after6 === undefined ? null : metricOf(after6, metric),
    };
  });
}
