import { AreaChart, BarChart, CompositeChart, LineChart } from "@mantine/charts";
import { Paper, SimpleGrid, Table, Text, Title } from "@mantine/core";
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";

import { formatKopecks, formatNumber, formatPercent } from "../../lib/money";
import { beforeAfter, type CohortRow, type KpiReport, type MonthlyKpi } from "./kpi";
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

const rub = (kopecks: number) => kopecks / 100;

/** Monthly charts of the analytics KPIs. */
export function KpiCharts({ months }: { months: MonthlyKpi[] }) {
  const { t, i18n } = useTranslation();
  const money = (roubles: number) => formatKopecks(Math.round(roubles * 100), i18n.language);
  const percent = (ratio: number) => formatPercent(ratio, i18n.language);
  const count = (value: number) => formatNumber(value, i18n.language);
  const data = months.map((m) => ({
    month: m.month,
    // Before the first member there is no members' figure: a gap, not a zero.
    aovMembers: m.purchases_members > 0 ? rub(m.aov_members_kopecks) : null,
    aovOthers: rub(m.aov_anonymous_kopecks),
    purchasesMembers: m.purchases_members,
    purchasesOthers: m.purchases_anonymous,
    newMembers: m.members_new,
    retention: m.members_total > 0 ? m.retention_rate : null,
    churn: m.members_total > 0 ? m.churn_rate : null,
    engagement: m.members_total > 0 ? m.engagement_rate : null,
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

/** The latest month's headline figures. */
export function KpiCards({ month }: { month: MonthlyKpi }) {
  const { t, i18n } = useTranslation();
  const money = (k: number) => formatKopecks(k, i18n.language);
  const cards: [string, string][] = [
    [t("overview.kpi.aovMembers"), money(month.aov_members_kopecks)],
    [t("overview.kpi.aovOthers"), money(month.aov_anonymous_kopecks)],
    [t("overview.kpi.membersNew"), formatNumber(month.members_new, i18n.language)],
    [t("overview.kpi.retention"), formatPercent(month.retention_rate, i18n.language)],
    [t("overview.kpi.churn"), formatPercent(month.churn_rate, i18n.language)],
    [t("overview.kpi.engagement"), formatPercent(month.engagement_rate, i18n.language)],
    [t("overview.kpi.liability"), money(month.liability_kopecks)],
    [t("overview.kpi.roi"), month.roi === null ? "—" : formatPercent(month.roi, i18n.language, 0)],
  ];
  return (
    <SimpleGrid cols={{ base: 2, sm: 4 }}>
      {cards.map(([label, value]) => (
        <Paper key={label} withBorder p="md" radius="md">
          <Text size="sm" c="dimmed">
            {label}
          </Text>
          <Text size="xl" fw={700}>
            {value}
          </Text>
        </Paper>
      ))}
    </SimpleGrid>
  );
}

export function BeforeAfterTable({ months }: { months: MonthlyKpi[] }) {
  const { t, i18n } = useTranslation();
  const rows = beforeAfter(months);
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
  const width = Math.max(0, ...cohorts.map((c) => c.retention.length));
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
              <Table.Tr key={cohort.cohort}>
                <Table.Th scope="row">{cohort.cohort}</Table.Th>
                <Table.Td ta="right">{formatNumber(cohort.members, i18n.language)}</Table.Td>
                {Array.from({ length: width }, (_, i) => {
                  const share = cohort.retention[i];
                  if (share === undefined) return <Table.Td key={i} />;
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

export function KpiSection({ report }: { report: KpiReport }) {
  const { t } = useTranslation();
  const latest = report.months.at(-1);
  if (latest === undefined) return <Text>{t("overview.noMonths")}</Text>;
  return (
    <>
      <KpiCards month={latest} />
      <KpiCharts months={report.months} />
      <BeforeAfterTable months={report.months} />
      {report.cohorts.length > 0 && <CohortHeatmap cohorts={report.cohorts} />}
    </>
  );
}
