import { describe, expect, it } from "vitest";

import { addMonths, baselineOf, beforeAfter, type MonthlyKpi } from "./kpi";

/** A month of a shop without a program: anonymous sales only, every members' ratio null. */
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
    aov_members_kopecks: null,
    aov_anonymous_kopecks: 50_000,
    aov_all_kopecks: 50_000,
    purchase_frequency: null,
    retention_rate: null,
    churn_rate: null,
    engagement_rate: 0,
    points_issued: 0,
    points_redeemed: 0,
    points_expired: 0,
    points_clawed_back: 0,
    points_outstanding: 0,
    liability_kopecks: 0,
    program_cost_kopecks: 0,
    incremental_revenue_kopecks: null,
    roi: null,
    clv_kopecks: null,
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

describe("baselineOf", () => {
  it("starts at the first new member and takes up to three months before it", () => {
    const months = ["2025-11", "2025-12", "2026-01", "2026-02"].map((m) => month(m));
    months.push(month("2026-03", { members_new: 5, members_total: 5 }));
    expect(baselineOf(months)).toEqual({ before: ["2025-12", "2026-01", "2026-02"], start: "2026-03", preProgram: true });
  });

  it("uses the earliest month when the range holds no month before the program", () => {
    const months = [month("2026-04", { members_new: 3 }), month("2026-03", { members_new: 2 })];
    expect(baselineOf(months)).toEqual({ before: ["2026-03"], start: "2026-03", preProgram: false });
    expect(baselineOf([month("2026-01"), month("2026-02")])).toMatchObject({ start: "2026-01", preProgram: false });
  });

  it("is null without months", () => {
    expect(baselineOf([])).toBeNull();
  });
});

describe("beforeAfter", () => {
  const months = [
    month("2026-01", { aov_all_kopecks: 40_000 }),
    month("2026-02", { aov_all_kopecks: 50_000 }),
    month("2026-03", { aov_all_kopecks: 60_000, members_new: 5, members_total: 5, purchases_members: 20, purchases_anonymous: 80 }),
    month("2026-06", { aov_all_kopecks: 70_000, members_total: 40, purchases_members: 50, purchases_anonymous: 50, engagement_rate: 0.5, purchase_frequency: 1.25 }),
  ];

  it("averages the months before and picks months 3 and 6 after", () => {
    const rows = beforeAfter(months);
    expect(rows.find((row) => row.metric === "aov_all_kopecks")).toMatchObject({ before: 45_000, after3: 70_000, after6: null, money: true });
    expect(rows.find((row) => row.metric === "member_share")).toMatchObject({ before: 0, after3: 0.5, percent: true });
    expect(rows.find((row) => row.metric === "purchases")).toMatchObject({ before: 100, after3: 100 });
  });

  it("leaves a figure the API could not compute out instead of counting it as zero", () => {
    const rows = beforeAfter(months);
    // No members before the program: no purchase frequency, not "0 purchases per member".
    expect(rows.find((row) => row.metric === "purchase_frequency")).toMatchObject({ before: null, after3: 1.25 });
    const quiet = [month("2026-01", { aov_all_kopecks: null }), month("2026-02", { aov_all_kopecks: 30_000 }), month("2026-03", { members_new: 1 })];
    expect(beforeAfter(quiet).find((row) => row.metric === "aov_all_kopecks")?.before).toBe(30_000);
  });

  it("has nothing to compare without months", () => {
    expect(beforeAfter([]).every((row) => row.before === null && row.after3 === null && row.after6 === null)).toBe(true);
  });
});
