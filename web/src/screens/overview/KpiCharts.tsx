import { AreaChart, BarChart, CompositeChart, LineChart } from "@mantine/charts";
import { Paper, SimpleGrid, Table, Text, Title } from "@mantine/core";
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";

import { formatKopecks, formatNumber, formatPercent } from "../../lib/money";
import type { Schemas } from "../../api/client";
import { baselineOf, beforeAfter, type CohortRow, type KpiReport, type MonthlyKpi } from "./kpi";
import { ScrollTable } from "../../layout/ScrollTable";

function ChartCard({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Paper withBorder p="md" radius="md" component="figure" m={0} aria-label={title}>
      <Title order={4} size="h5" mb="sm" component="figcaption">
        {title}
      </Title>
      {children}
    </Paper>
  );
}

const rub = (kopecks: number | null) => (kopecks === null ? null : kopecks / 100);

/** A figure the API could not compute (no purchases, no members yet) reads as a dash, not a zero. */
export const DASH = "—";

function orDash<T>(value: T | null, format: (value: T) => string): string {
  return value === null ? DASH : format(value);
}

/** Monthly charts of the analytics KPIs. */
export function KpiCharts({ months }: { months: MonthlyKpi[] }) {
  const { t, i18n } = useTranslation();
  const money = (roubles: number) => formatKopecks(Math.round(roubles * 100), i18n.language);
  const percent = (ratio: number) => formatPercent(ratio, i18n.language);
  const count = (value: number) => formatNumber(value, i18n.language);
  const data = months.map((m) => ({
    month: m.month,
    // Before the first member there is no members' figure: a gap, not a zero.
    aovMembers: rub(m.aov_members_kopecks),
    aovOthers: rub(m.aov_anonymous_kopecks),
    purchasesMembers: m.purchases_members,
    purchasesOthers: m.purchases_anonymous,
    newMembers: m.members_new,
    retention: m.retention_rate,
    churn: m.churn_rate,
    engagement: m.engagement_rate,
    liability: rub(m.liability_kopecks),
    cost: rub(m.program_cost_kopecks),
    incremental: rub(m.incremental_revenue_kopecks),
  }));
  const common = { h: 240, data, dataKey: "month", withLegend: true, legendProps: { verticalAlign: "bottom" as const } };
  return (
    <SimpleGrid cols={{ base: 1, lg: 2 }}>
      <ChartCard title={t("overview.charts.aov")}>
        <LineChart
          {...common}
          valueFormatter={money}
          series={[
            { name: "aovMembers", label: t("overview.series.members"), color: "blue.7" },
            { name: "aovOthers", label: t("overview.series.others"), color: "gray.6" },
          ]}
        />
      </ChartCard>
      <ChartCard title={t("overview.charts.purchases")}>
        <BarChart
          {...common}
          type="stacked"
          valueFormatter={count}
          series={[
            { name: "purchasesMembers", label: t("overview.series.members"), color: "blue.7" },
            { name: "purchasesOthers", label: t("overview.series.others"), color: "gray.5" },
          ]}
        />
      </ChartCard>
      <ChartCard title={t("overview.charts.newMembers")}>
        <BarChart {...common} valueFormatter={count} series={[{ name: "newMembers", label: t("overview.series.newMembers"), color: "teal.7" }]} />
      </ChartCard>
      <ChartCard title={t("overview.charts.retention")}>
        <LineChart
          {...common}
          valueFormatter={percent}
          series={[
            { name: "retention", label: t("overview.series.retention"), color: "green.7" },
            { name: "churn", label: t("overview.series.churn"), color: "red.7" },
            { name: "engagement", label: t("overview.series.engagement"), color: "violet.7" },
          ]}
        />
      </ChartCard>
      <ChartCard title={t("overview.charts.liability")}>
        <AreaChart {...common} valueFormatter={money} series={[{ name: "liability", label: t("overview.series.liability"), color: "orange.7" }]} />
      </ChartCard>
      <ChartCard title={t("overview.charts.roi")}>
        <CompositeChart
          {...common}
          valueFormatter={money}
          series={[
            { name: "cost", label: t("overview.series.cost"), color: "red.6", type: "bar" },
            { name: "incremental", label: t("overview.series.incremental"), color: "green.7", type: "bar" },
          ]}
        />
      </ChartCard>
    </SimpleGrid>
  );
}

/** The latest month's headline figures; each card has a test id named after its API field. */
export function KpiCards({ month }: { month: MonthlyKpi }) {
  const { t, i18n } = useTranslation();
  const money = (k: number | null) => orDash(k, (v) => formatKopecks(v, i18n.language));
  const count = (n: number | null) => orDash(n, (v) => formatNumber(v, i18n.language));
  const percent = (r: number | null, digits = 1) => orDash(r, (v) => formatPercent(v, i18n.language, digits));
  const cards: [string, string, string][] = [
    ["aov_members_kopecks", t("overview.kpi.aovMembers"), money(month.aov_members_kopecks)],
    ["aov_anonymous_kopecks", t("overview.kpi.aovOthers"), money(month.aov_anonymous_kopecks)],
    ["purchases_members", t("overview.kpi.purchasesMembers"), count(month.purchases_members)],
    ["purchases_anonymous", t("overview.kpi.purchasesOthers"), count(month.purchases_anonymous)],
    ["members_new", t("overview.kpi.membersNew"), count(month.members_new)],
    ["members_active", t("overview.kpi.membersActive"), count(month.members_active)],
    ["members_total", t("overview.kpi.membersTotal"), count(month.members_total)],
    ["purchase_frequency", t("overview.kpi.frequency"), orDash(month.purchase_frequency, (v) => formatNumber(Math.round(v * 100) / 100, i18n.language))],
    ["retention_rate", t("overview.kpi.retention"), percent(month.retention_rate)],
    ["churn_rate", t("overview.kpi.churn"), percent(month.churn_rate)],
    ["engagement_rate", t("overview.kpi.engagement"), percent(month.engagement_rate)],
    ["points_outstanding", t("overview.kpi.pointsOutstanding"), count(month.points_outstanding)],
    ["liability_kopecks", t("overview.kpi.liability"), money(month.liability_kopecks)],
    ["program_cost_kopecks", t("overview.kpi.cost"), money(month.program_cost_kopecks)],
    ["incremental_revenue_kopecks", t("overview.kpi.incremental"), money(month.incremental_revenue_kopecks)],
    ["roi", t("overview.kpi.roi"), percent(month.roi, 0)],
  ];
  return (
    <Paper withBorder p="md" radius="md" component="section" aria-labelledby="kpi-cards-title">
      <Title order={4} size="h5" mb="sm" id="kpi-cards-title">
        {t("overview.latestMonth", { month: month.month })}
      </Title>
      <SimpleGrid cols={{ base: 2, sm: 4 }}>
        {cards.map(([field, label, value]) => (
          <div key={field}>
            <Text size="sm" c="dimmed">
              {label}
            </Text>
            <Text size="xl" fw={700} data-testid={`kpi-${field}`}>
              {value}
            </Text>
          </div>
        ))}
      </SimpleGrid>
    </Paper>
  );
}

/** Gift cards sold, spent and still to be spent, per month (GET /v1/reports/gift-cards). */
export function GiftCardChart({ months }: { months: Schemas["GiftCardMonth"][] }) {
  const { t, i18n } = useTranslation();
  const money = (roubles: number) => formatKopecks(Math.round(roubles * 100), i18n.language);
  const data = months.map((m) => ({
    month: m.month,
    sold: m.nominal_sold_kopecks / 100,
    redeemed: m.redeemed_kopecks / 100,
    outstanding: m.outstanding_kopecks / 100,
  }));
  return (
    <ChartCard title={t("overview.charts.giftCards")}>
      <CompositeChart
        h={240}
        data={data}
        dataKey="month"
        withLegend
        legendProps={{ verticalAlign: "bottom" }}
        valueFormatter={money}
        series={[
          { name: "sold", label: t("overview.series.giftSold"), color: "blue.7", type: "bar" },
          { name: "redeemed", label: t("overview.series.giftRedeemed"), color: "teal.7", type: "bar" },
          { name: "outstanding", label: t("overview.series.giftOutstanding"), color: "orange.7", type: "line" },
        ]}
      />
    </ChartCard>
  );
}

export function BeforeAfterTable({ months }: { months: MonthlyKpi[] }) {
  const { t, i18n } = useTranslation();
  const baseline = baselineOf(months);
  const rows = beforeAfter(months, baseline);
  const cell = (value: number | null, money: boolean, percent: boolean) =>
    value === null
      ? "—"
      : money
        ? formatKopecks(Math.round(value / 100) * 100, i18n.language)
        : percent
          ? formatPercent(value, i18n.language)
          : formatNumber(Math.round(value * 100) / 100, i18n.language);
  return (
    <ChartCard title={t("overview.beforeAfter")}>
      <ScrollTable minWidth={480} label={t("overview.beforeAfter")}>
        <Table>
          <Table.Thead>
            <Table.Tr>
              <Table.Th />
              <Table.Th ta="right">{t("overview.before")}</Table.Th>
              <Table.Th ta="right">{t("overview.after3")}</Table.Th>
              <Table.Th ta="right">{t("overview.after6")}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((row) => (
              <Table.Tr key={row.metric}>
                <Table.Th scope="row">{t(`overview.metric.${row.metric}`)}</Table.Th>
                <Table.Td ta="right">{cell(row.before, row.money, row.percent)}</Table.Td>
                <Table.Td ta="right">{cell(row.after3, row.money, row.percent)}</Table.Td>
                <Table.Td ta="right">{cell(row.after6, row.money, row.percent)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </ScrollTable>
      {baseline !== null && (
        <Text size="sm" c="dimmed" mt="xs" data-testid="baseline-note">
          {baseline.preProgram
            ? t("overview.baselineNote", { before: baseline.before.join(", "), start: baseline.start })
            : t("overview.baselineNoPre", { start: baseline.start })}
        </Text>
      )}
    </ChartCard>
  );
}

function luminance(hex: string): number {
  const channel = (i: number) => {
    const value = parseInt(hex.slice(i, i + 2), 16) / 255;
    return value <= 0.03928 ? value / 12.92 : ((value + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
}

/** A cell's shade for a share (0..1), and black or white text, whichever reads better on it. */
export function heatColors(share: number): { background: string; color: string } {
  // From a pale blue (#e7f5ff) to a deep one (#1864ab), in sRGB steps.
  const from = [0xe7, 0xf5, 0xff];
  const to = [0x18, 0x64, 0xab];
  const mix = from.map((start, i) => Math.round(start + ((to[i] ?? start) - start) * Math.min(Math.max(share, 0), 1)));
  const background = `#${mix.map((v) => v.toString(16).padStart(2, "0")).join("")}`;
  const l = luminance(background);
  const color = 1.05 / (l + 0.05) >= (l + 0.05) / 0.05 ? "#ffffff" : "#1a1b1e";
  return { background, color };
}

/** Cohort retention as a heat map: a table whose cells are shaded by the share still active. */
export function CohortHeatmap({ cohorts }: { cohorts: CohortRow[] }) {
  const { t, i18n } = useTranslation();
  const width = Math.max(0, ...cohorts.map((c) => c.active.length));
  return (
    <ChartCard title={t("overview.cohorts")}>
      <ScrollTable minWidth={Math.max(480, 80 + width * 56)} label={t("overview.cohorts")}>
        <Table withColumnBorders fz="sm" aria-label={t("overview.cohorts")}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t("overview.cohort")}</Table.Th>
              <Table.Th ta="right">{t("overview.cohortSize")}</Table.Th>
              {Array.from({ length: width }, (_, i) => (
                <Table.Th key={i} ta="center">
                  {t("overview.monthN", { n: i })}
                </Table.Th>
              ))}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {cohorts.map((cohort) => (
              <Table.Tr key={cohort.month}>
                <Table.Th scope="row">{cohort.month}</Table.Th>
                <Table.Td ta="right">{formatNumber(cohort.members, i18n.language)}</Table.Td>
                {Array.from({ length: width }, (_, i) => {
                  const share = cohort.active[i];
                  if (share === undefined) return <Table.Td key={i} />;
                  if (share === null)
                    return (
                      <Table.Td key={i} ta="center">
                        {DASH}
                      </Table.Td>
                    );
                  const { background, color } = heatColors(share);
                  return (
                    <Table.Td key={i} ta="center" style={{ background, color }}>
                      {formatPercent(share, i18n.language, 0)}
                    </Table.Td>
                  );
                })}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </ScrollTable>
    </ChartCard>
  );
}

export function KpiSection({ report, giftCards }: { report: KpiReport; giftCards: Schemas["GiftCardMonth"][] | undefined }) {
  const { t } = useTranslation();
  const latest = report.months.at(-1);
  const cohorts = report.cohorts.filter((cohort) => cohort.members > 0);
  if (latest === undefined) return <Text>{t("overview.noMonths")}</Text>;
  return (
    <>
      <KpiCards month={latest} />
      <KpiCharts months={report.months} />
      <BeforeAfterTable months={report.months} />
      {/* A month nobody joined in is a row of dashes: left out. */}
      {cohorts.length > 0 && <CohortHeatmap cohorts={cohorts} />}
      {giftCards !== undefined && <GiftCardChart months={giftCards} />}
    </>
  );
}
