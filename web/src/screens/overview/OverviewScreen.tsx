import { Group, Stack, TextInput, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";

import { type ApiClient, unwrap } from "../../api/client";
import { useApi } from "../../auth/SessionContext";
import { ErrorNote } from "../../layout/ErrorNote";
import { Loading } from "../../layout/Loading";
import { addMonths } from "./kpi";
import { KpiSection } from "./KpiCharts";

interface MonthRange {
  from: string;
  to: string;
}

/** How many months the overview shows until the merchant picks a range (the API allows 24). */
const DEFAULT_MONTHS = 12;

/**
 * The KPI report for ``range``, or, before one is chosen, for the twelve months up to the
 * program's current month: the server knows that month (the program's time zone, the local
 * stack's settable clock), so its default report is asked first and the range counted from it.
 */
async function fetchKpis(api: ApiClient, range: MonthRange | null) {
  const chosen = range ?? { from: "", to: (await unwrap(api.GET("/v1/reports/kpis"))).to };
  const query = { from: chosen.from || addMonths(chosen.to, 1 - DEFAULT_MONTHS), to: chosen.to };
  const [kpis, giftCards] = await Promise.all([
    unwrap(api.GET("/v1/reports/kpis", { params: { query } })),
    unwrap(api.GET("/v1/reports/gift-cards", { params: { query } })),
  ]);
  return { kpis, giftCards };
}

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

/** The overview: the latest month's KPIs, monthly charts, before/after, cohorts, gift cards. */
export default function OverviewScreen() {
  const { t } = useTranslation();
  const api = useApi();
  const [range, setRange] = useState<MonthRange | null>(null);
  const report = useQuery({ queryKey: ["kpis", range], queryFn: () => fetchKpis(api, range) });
  const shown = range ?? (report.data ? { from: report.data.kpis.from, to: report.data.kpis.to } : { from: "", to: "" });
  // A half-typed month is kept in the field and not sent: the API would refuse it.
  const pick = (change: Partial<MonthRange>) => {
    const next = { ...shown, ...change };
    if (MONTH.test(next.from) && MONTH.test(next.to)) setRange(next);
  };
  return (
    <Stack>
      <Group align="flex-end" justify="space-between" wrap="wrap">
        <Title order={2}>{t("screens.overview")}</Title>
        <Group>
          <TextInput
            type="month"
            label={t("overview.from")}
            value={shown.from}
            onChange={(e) => pick({ from: e.currentTarget.value })}
          />
          <TextInput type="month" label={t("overview.to")} value={shown.to} onChange={(e) => pick({ to: e.currentTarget.value })} />
        </Group>
      </Group>
      {report.isPending && <Loading />}
      <ErrorNote error={report.error} />
      {report.data && <KpiSection report={report.data.kpis} giftCards={report.data.giftCards.months} />}
    </Stack>
  );
}
