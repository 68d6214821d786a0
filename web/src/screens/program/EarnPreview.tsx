/** "What would a purchase earn?" under the program as it stands in the editor, before saving. */
import { Alert, Group, NumberInput, Paper, Select, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";

import { type Schemas, unwrap } from "../../api/client";
import { useApi } from "../../auth/SessionContext";
import { formatKopecks, formatNumber } from "../../lib/money";
import type { Form } from "./fields";
import { toProgram } from "./programForm";

export function EarnPreview({ form }: { form: Form }) {
  const { t, i18n } = useTranslation();
  const api = useApi();
  const [roubles, setRoubles] = useState<number | string>(1000);
  const [category, setCategory] = useState<string | null>(null);
  const [tier, setTier] = useState<string | null>(null);
  const values = form.getValues();
  const categories = [...new Set([...values.multipliers.map((row) => row.category), ...values.excluded_categories].filter(Boolean))];
  const tiers = values.tiers?.levels.map((level) => level.name).filter(Boolean) ?? [];
  const amount = Math.round(Number(roubles || 0) * 100);
  const [request] = useDebouncedValue(
    {
      amount_kopecks: amount,
      lines: category ? [{ amount_kopecks: amount, category }] : null,
      tier: tier !== null && tiers.includes(tier) ? tier : null,
      program: toProgram(values),
    } satisfies Schemas["EarnPreviewRequest"],
    400,
  );
  const preview = useQuery({
    queryKey: ["earn-preview", request],
    enabled: request.amount_kopecks > 0,
    placeholderData: keepPreviousData,
    retry: false,
    queryFn: () => unwrap(api.POST("/v1/program/earn-preview", { body: request })),
  });
  const result = preview.data;
  // A rule as the breakdown names it ("category:coffee"), in the merchant's words.
  const ruleLabel = (rule: string) => {
    const [kind = "", name = ""] = rule.split(":", 2);
    if (kind === "base") return t("earnPreview.rule.base");
    if (kind === "category") return t("earnPreview.rule.category", { name });
    if (kind === "tier") return t("earnPreview.rule.tier", { name });
    if (kind === "promotion") return t("earnPreview.rule.promotion", { name });
    return rule;
  };
  return (
    <Paper withBorder p="md" radius="md" component="section" aria-labelledby="earn-preview-title">
      <Stack>
        <Title order={3} size="h4" id="earn-preview-title">
          {t("earnPreview.title")}
        </Title>
        <Text size="sm">{t("earnPreview.explained")}</Text>
        <SimpleGrid cols={{ base: 1, sm: 3 }}>
          <NumberInput
            label={t("earnPreview.amount")}
            value={roubles}
            onChange={setRoubles}
            min={0}
            decimalScale={2}
            thousandSeparator=" "
            decimalSeparator=","
            suffix=" ₽"
            size="md"
          />
          <Select label={t("earnPreview.category")} placeholder={t("earnPreview.anyCategory")} data={categories} value={category} onChange={setCategory} clearable />
          <Select label={t("earnPreview.tier")} placeholder={t("earnPreview.noTier")} data={tiers} value={tier} onChange={setTier} clearable disabled={tiers.length === 0} />
        </SimpleGrid>
        {preview.isError && (
          <Alert color="orange" role="status">
            {t("earnPreview.invalid")}
          </Alert>
        )}
        {result && !preview.isError && (
          <Stack gap="xs" aria-live="polite">
            <Group gap="xs" align="baseline">
              <Text size="xl" fw={700} data-testid="earn-preview-points">
                {formatNumber(result.points, i18n.language)}
              </Text>
              <Text>{t("earnPreview.points", { worth: formatKopecks(result.worth_kopecks, i18n.language) })}</Text>
            </Group>
            {result.reason && <Text c="dimmed">{t(`earnPreview.reason.${result.reason}`, { defaultValue: result.reason })}</Text>}
            {result.breakdown.length > 0 && (
              <Table withRowBorders={false} maw={420} aria-label={t("earnPreview.breakdown")}>
                <Table.Tbody>
                  {result.breakdown.map((award) => (
                    <Table.Tr key={award.rule}>
                      <Table.Td>{ruleLabel(award.rule)}</Table.Td>
                      <Table.Td ta="right">{formatNumber(award.points, i18n.language)}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            )}
          </Stack>
        )}
      </Stack>
    </Paper>
  );
}
