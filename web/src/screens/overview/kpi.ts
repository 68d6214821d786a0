/**
 * The analytics KPIs as the overview draws them: one object per month, plus cohort retention.
 * The server's GET /v1/reports/kpis?from=YYYY-MM&to=YYYY-MM is not in openapi.json yet, so this
 * module is the one place that knows its shape: parseKpiReport checks every field, and once the
 * route is in the contract, fetchKpiReport switches to the typed client (one change, here).
 */

export interface MonthlyKpi {
  month: string; // YYYY-MM
  members_total: number;
  members_new: number;
  members_active: number;
  purchases_members: number;
  revenue_members_kopecks: number;
  purchases_anonymous: number;
  revenue_anonymous_kopecks: number;
  aov_members_kopecks: number;
  aov_anonymous_kopecks: number;
  aov_all_kopecks: number;
  purchase_frequency: number;
  retention_rate: number;
  churn_rate: number;
  engagement_rate: number;
  points_issued: number;
  points_redeemed: number;
  points_expired: number;
  points_clawed_back: number;
  points_outstanding: number;
  liability_kopecks: number;
  program_cost_kopecks: number;
  incremental_revenue_kopecks: number;
  roi: number | null;
  clv_kopecks: number;
}

/** Members who joined in ``cohort`` and were active ``i`` months later, as a share of ``members``. */
export interface CohortRow {
  cohort: string; // YYYY-MM
  members: number;
  retention: number[];
}

export interface KpiReport {
  months: MonthlyKpi[];
  cohorts: CohortRow[];
}

const NUMBER_FIELDS = [
  "members_total",
  "members_new",
  "members_active",
  "purchases_members",
  "revenue_members_kopecks",
  "purchases_anonymous",
  "revenue_anonymous_kopecks",
  "aov_members_kopecks",
  "aov_anonymous_kopecks",
  "aov_all_kopecks",
  "purchase_frequency",
  "retention_rate",
  "churn_rate",
  "engagement_rate",
  "points_issued",
  "points_redeemed",
  "points_expired",
  "points_clawed_back",
  "points_outstanding",
  "liability_kopecks",
  "program_cost_kopecks",
  "incremental_revenue_kopecks",
  "clv_kopecks",
] as const satisfies readonly (keyof MonthlyKpi)[];

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseMonth(raw: unknown, index: number): MonthlyKpi {
  if (!isRecord(raw)) throw new Error(`kpis: month ${index} is not an object`);
  if (typeof raw.month !== "string" || !MONTH.test(raw.month)) throw new Error(`kpis: month ${index}: bad month`);
  const kpi: Record<string, unknown> = { month: raw.month };
  for (const field of NUMBER_FIELDS) {
    const value = raw[field];
    if (typeof value !== "number" || !Number.isFinite(value)) throw new Error(`kpis: ${raw.month}: ${field} is not a number`);
    kpi[field] = value;
  }
  const roi = raw.roi;
  if (roi !== null && (typeof roi !== "number" || !Number.isFinite(roi))) throw new Error(`kpis: ${raw.month}: roi`);
  kpi.roi = roi;
  return kpi as unknown as MonthlyKpi;
}

function parseCohort(raw: unknown, index: number): CohortRow {
  if (!isRecord(raw) || typeof raw.cohort !== "string" || !MONTH.test(raw.cohort)) {
    throw new Error(`kpis: cohort ${index} is malformed`);
  }
  const { members, retention } = raw;
  if (typeof members !== "number" || !Array.isArray(retention) || !retention.every((x) => typeof x === "number")) {
    throw new Error(`kpis: cohort ${raw.cohort}: members and retention[] are needed`);
  }
  return { cohort: raw.cohort, members, retention: retention };
}

/** Accepts {months: [...], cohorts: [...]} (or a bare list of months). Throws on any mismatch. */
export function parseKpiReport(raw: unknown): KpiReport {
  const months = Array.isArray(raw) ? raw : isRecord(raw) ? raw.months : undefined;
  if (!Array.isArray(months)) throw new Error("kpis: no months");
  const cohorts = isRecord(raw) && Array.isArray(raw.cohorts) ? raw.cohorts : [];
  return {
    months: months.map(parseMonth).sort((a, b) => a.month.localeCompare(b.month)),
    cohorts: cohorts.map(parseCohort),
  };
}

/** "2026-03" plus n months. */
export function addMonths(month: string, n: number): string {
  const [year = 0, mon = 1] = month.split("-").map(Number);
  const index = year * 12 + (mon - 1) + n;
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, "0")}`;
}

/** The first month with a member: when the program started, as far as the data knows. */
export function programStart(months: MonthlyKpi[]): string | null {
  return months.find((m) => m.members_total > 0)?.month ?? null;
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

function metricOf(month: MonthlyKpi, metric: ComparedMetric): number {
  const purchases = month.purchases_members + month.purchases_anonymous;
  switch (metric) {
    case "aov_all_kopecks":
      return month.aov_all_kopecks;
    case "purchases":
      return purchases;
    case "revenue_kopecks":
      return month.revenue_members_kopecks + month.revenue_anonymous_kopecks;
    case "member_share":
      return purchases === 0 ? 0 : month.purchases_members / purchases;
    case "purchase_frequency":
      return month.purchase_frequency;
  }
}

/**
 * "Before the program / after 3 months / after 6 months" from the merchant's own months: before
 * is the average of up to three months before the start; after N is the month N months after it.
 * A column the data does not reach yet is null.
 */
export function beforeAfter(months: MonthlyKpi[], start: string | null = programStart(months)): ComparisonRow[] {
  const byMonth = new Map(months.map((m) => [m.month, m]));
  const before = start === null ? [] : months.filter((m) => m.month < start && m.month >= addMonths(start, -3));
  const at = (n: number) => (start === null ? undefined : byMonth.get(addMonths(start, n)));
  const metrics: [ComparedMetric, boolean, boolean][] = [
    ["aov_all_kopecks", true, false],
    ["purchases", false, false],
    ["revenue_kopecks", true, false],
    ["member_share", false, true],
    ["purchase_frequency", false, false],
  ];
  return metrics.map(([metric, money, percent]) => {
    const after3 = at(3);
    const after6 = at(6);
    return {
      metric,
      money,
      percent,
      before: before.length === 0 ? null : before.reduce((sum, m) => sum + metricOf(m, metric), 0) / before.length,
      after3: after3 === undefined ? null : metricOf(after3, metric),
      after6: after6 === undefined ? null : metricOf(after6, metric),
    };
  });
}

export type KpiFetch = (path: string) => Promise<Response>;

/** The KPI report for whole months ``from``..``to``, or null while the server has no such route. */
export async function fetchKpiReport(get: KpiFetch, from: string, to: string): Promise<KpiReport | null> {
  const reply = await get(`/v1/reports/kpis?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
  if (reply.status === 404) return null;
  if (!reply.ok) throw new Error(`kpis: HTTP ${reply.status}`);
  return parseKpiReport(await reply.json());
}
