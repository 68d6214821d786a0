import { Badge, Group, Paper, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";

import { formatNumber } from "../lib/money";
import type { Member } from "./queries";

function Figure({ label, value, testId }: { label: string; value: ReactNode; testId: string }) {
  return (
    <Stack gap={0}>
      <Text size="sm" c="dimmed">
        {label}
      </Text>
      <Text size="xl" fw={700} data-testid={testId}>
        {value}
      </Text>
    </Stack>
  );
}

/** Who the member is and what they have: the same block at the till and on the member's page. */
export function MemberSummary({ member, actions }: { member: Member; actions?: ReactNode }) {
  const { t, i18n } = useTranslation();
  return (
    <Paper withBorder p="md" radius="md" aria-label={t("member.summary")} component="section">
      <Group justify="space-between" align="flex-start" mb="sm" wrap="wrap">
        <Stack gap={2}>
          <Title order={2} size="h3" data-testid="member-name">
            {member.name ?? t("member.noName")}
          </Title>
          <Text size="sm">
            {member.phone} · {t("member.card")} {member.card_number}
          </Text>
        </Stack>
        <Group gap="xs">
          {member.tier !== null && member.tier !== undefined && (
            <Badge size="lg" color="grape">
              {member.tier}
            </Badge>
          )}
          {member.status !== "active" && (
            <Badge size="lg" color="red">
              {t(`member.status.${member.status === "blocked" ? "blocked" : "other"}`, { status: member.status })}
            </Badge>
          )}
          {actions}
        </Group>
      </Group>
      <SimpleGrid cols={{ base: 3 }}>
        <Figure label={t("member.balance")} value={formatNumber(member.balance, i18n.language)} testId="member-balance" />
        <Figure
          label={t("member.spendable")}
          value={formatNumber(member.spendable, i18n.language)}
          testId="member-spendable"
        />
        <Figure label={t("member.pending")} value={formatNumber(member.pending, i18n.language)} testId="member-pending" />
      </SimpleGrid>
    </Paper>
  );
}
