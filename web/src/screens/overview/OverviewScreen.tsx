import { BarChart } from "@mantine/charts";
import { Alert, Group, Paper, SimpleGrid, Stack, Text, TextInput, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";

import { unwrap } from "../../api/client";
import { useApi, useSession } from "../../auth/SessionContext";
import { ErrorNote } from "../../layout/ErrorNote";
import { Loading } from "../../layout/Loading";
import { formatKopecks, formatNumber } from "../../lib/money";
import { lastDays } from "./days";
import { addMonths, fetchKpiReport } from "./kpi";
import { KpiSection } from "./KpiCharts";

function thisMonth(): string {
  return new Date().toISOString().slice(0, 7);
}

function Figure({ label, value, testId }: { label: string; value: string; testId: string }) {
  return (
    <Paper withBorder p="md" radius="md">
      <Text size="sm" c="dimmed">
        {label}
      </Text>
      <Text size="xl" fw={700} data-testid={testId}>
        {value}
      </Text>
    </Paper>
  );
}

/** Totals and the last 30 days from GET /v1/reports/summary (pre-aggregated counters). */
function Summary() {
  const { t, i18n } = useTranslation();
  const api = useApi();
  const summary = useQuery({ queryKey: ["summary"], queryFn: () => unwrap(api.GET("/v1/reports/summary")) });
  if (summary.isPending) return <Loading />;
  if (summary.data === undefined) return <ErrorNote error={summary.error} />;
  const s = summary.data;
  const money = (k: number) => formatKopecks(k, i18n.language);
  const count = (n: number) => formatNumber(n, i18n.language);
  return (
    <Stack>
      <SimpleGrid cols={{ base: 2, sm: 3, lg: 5 }}>
        <Figure label={t("overview.members")} value={count(s.members_total)} testId="summary-members" />
        <Figure label={t("overview.purchases")} value={count(s.purchases)} testId="summary-purchases" />
        <Figure label={t("overview.revenue")} value={money(s.purchase_kopecks)} testId="summary-revenue" />
        <Figure label={t("overview.averageCheck")} value={money(s.average_check_kopecks)} testId="summary-aov" />
        <Figure
          label={t("overview.perMember")}
          value={formatNumber(Math.round(s.purchases_per_member * 100) / 100, i18n.language)}
          testId="summary-frequency"
        />
        <Figure label={t("overview.pointsIssued")} value={count(s.points.issued)} testId="summary-issued" />
        <Figure label={t("overview.pointsRedeemed")} value={count(s.points.redeemed)} testId="summary-redeemed" />
        <Figure label={t("overview.pointsOutstanding")} value={count(s.points.outstanding)} testId="summary-outstanding" />
        <Figure label={t("overview.liability")} value={money(s.points.liability_kopecks)} testId="summary-liability" />
        <Figure label={t("overview.giftCardsSold")} value={money(s.gift_cards.nominal_sold_kopecks)} testId="summary-gift-cards" />
      </SimpleGrid>
      <Paper withBorder p="md" radius="md" component="figure" m={0} aria-label={t("overview.last30")}>
        <Title order={3} size="h5" mb="sm" component="figcaption">
          {t("overview.last30")}
        </Title>
        <BarChart
          h={220}
          data={lastDays(s.days, 30).map((day) => ({
            day: day.day.slice(5),
            purchases: day.purchases ?? 0,
            newMembers: day.members_new ?? 0,
          }))}
          dataKey="day"
          withLegend
          valueFormatter={count}
          series={[
            { name: "purchases", label: t("overview.purchases"), color: "blue.7" },
            { name: "newMembers", label: t("overview.series.newMembers"), color: "teal.7" },
          ]}
        />
      </Paper>
    </Stack>
  );
}

function Kpis() {
  const { t } = useTranslation();
  const { config, session } = useSession();
  const [to, setTo] = useState(thisMonth);
  const [from, setFrom] = useState(() => addMonths(thisMonth(), -11));
  const kpis = useQuery({
    queryKey: ["kpis", from, to],
    queryFn: () =>
      fetchKpiReport(
        async (path) => fetch(`${config.apiBaseUrl}${path}`, { headers: (await session?.credentials()) ?? {} }),
        from,
        to,
      ),
  });
  return (
    <Stack>
      <Group align="flex-end" justify="space-between" wrap="wrap">
        <Title order={3}>{t("overview.kpis")}</Title>
        <Group>
          <TextInput type="month" label={t("overview.from")} value={from} onChange={(e) => setFrom(e.currentTarget.value)} />
          <TextInput type="month" label={t("overview.to")} value={to} onChange={(e) => setTo(e.currentTarget.value)} />
        </Group>
      </Group>
      {kpis.isPending && <Loading />}
      <ErrorNote error={kpis.error} />
      {kpis.data === null && (
        <Alert color="gray" data-testid="kpis-unavailable">
          {t("overview.kpisUnavailable")}
        </Alert>
      )}
      {kpis.data && <KpiSection report={kpis.data} />}
    </Stack>
  );
}

/** The overview: today's totals, and the monthly KPIs with charts. */
export default function OverviewScreen() {
  const { t } = useTranslation();
  return (
    <Stack>
      <Title order={2}>{t("screens.overview")}</Title>
      <Summary />
      <Kpis />
    </Stack>
  );
}
