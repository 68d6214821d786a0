import { describe, expect, it } from "vitest";

import { addMonths, beforeAfter, type MonthlyKpi, parseKpiReport, programStart } from "./kpi";

function month(m: string, overrides: Partial<MonthlyKpi> = {}): MonthlyKpi {
  return {
    month: m,
    members_total: 0,
    members_new: 0,
    members_active: 0,
    purchases_members: 0,
    revenue_members_kopecks: 0,
    purchases_anonymous: 100,
    revenue_anonymous_kopecks: 50_000_00,
    aov_members_kopecks: 0,
    aov_anonymous_kopecks: 50_000,
    aov_all_kopecks: 50_000,
    purchase_frequency: 0,
    retention_rate: 0,
    churn_rate: 0,
    engagement_rate: 0,
    points_issued: 0,
    points_redeemed: 0,
    points_expired: 0,
    points_clawed_back: 0,
    points_outstanding: 0,
    liability_kopecks: 0,
    program_cost_kopecks: 0,
    incremental_revenue_kopecks: 0,
    roi: null,
    clv_kopecks: 0,
    ...overrides,
  };
}

describe("addMonths", () => {
  it("crosses years both ways", () => {
    expect(addMonths("2026-11", 3)).toBe("2027-02");
    expect(addMonths("2026-01", -1)).toBe("2025-12");
    expect(addMonths("2026-06", 0)).toBe("2026-06");
  });
});

describe("parseKpiReport", () => {
  it("sorts months and keeps cohorts", () => {
    const report = parseKpiReport({
      months: [month("2026-02"), month("2026-01")],
      cohorts: [{ cohort: "2026-01", members: 10, retention: [1, 0.5] }],
    });
    expect(report.months.map((m) => m.month)).toEqual(["2026-01", "2026-02"]);
    expect(report.cohorts[0]?.retention).toEqual([1, 0.5]);
  });

  it("refuses a month with a missing figure, naming it", () => {
    const broken: Partial<MonthlyKpi> = month("2026-01");
    delete broken.liability_kopecks;
    expect(() => parseKpiReport({ months: [broken] })).toThrow(/liability_kopecks/);
  });

  it("refuses a malformed month label", () => {
    expect(() => parseKpiReport({ months: [month("2026-13")] })).toThrow(/bad month/);
  });
});

describe("beforeAfter", () => {
  const months = [
    month("2026-01", { aov_all_kopecks: 40_000 }),
    month("2026-02", { aov_all_kopecks: 50_000 }),
    month("2026-03", { aov_all_kopecks: 60_000, members_total: 5, purchases_members: 20, purchases_anonymous: 80 }),
    month("2026-06", { aov_all_kopecks: 70_000, members_total: 40, purchases_members: 50, purchases_anonymous: 50 }),
  ];

  it("starts where the first member is", () => {
    expect(programStart(months)).toBe("2026-03");
  });

  it("averages the months before and picks months 3 and 6 after", () => {
    const rows = beforeAfter(months);
    const aov = rows.find((row) => row.metric === "aov_all_kopecks");
    expect(aov).toMatchObject({ before: 45_000, after3: 70_000, after6: null, money: true });
    const share = rows.find((row) => row.metric === "member_share");
    expect(share).toMatchObject({ before: 0, after3: 0.5, percent: true });
  });

  it("has nothing to compare without members", () => {
    const rows = beforeAfter([month("2026-01")]);
    expect(rows.every((row) => row.before === null && row.after3 === null)).toBe(true);
  });
});
