import { Anchor, Badge, Button, Group, Stack, Switch, Table, Tabs, Text } from "@mantine/core";
import { IconArrowLeft } from "@tabler/icons-react";
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";

import { type Schemas, unwrap } from "../../api/client";
import { canCareForMembers } from "../../auth/permissions";
import { useApi, useSession } from "../../auth/SessionContext";
import { ErrorNote } from "../../layout/ErrorNote";
import { Loading } from "../../layout/Loading";
import { formatNumber } from "../../lib/money";
import { MemberSummary } from "../../members/MemberSummary";
import { useMember } from "../../members/queries";
import { MemberActions } from "./MemberActions";
import { CareActions } from "./MemberCare";
import { MemberCards, MemberCoupons } from "./MemberCards";
import { ScrollTable } from "../../layout/ScrollTable";

function dateTime(iso: string, language: string): string {
  return new Date(iso).toLocaleString(language === "en" ? "en-GB" : "ru-RU", {
    dateStyle: "short",
    timeStyle: "short",
  });
}

function History({ memberId }: { memberId: string }) {
  const { t, i18n } = useTranslation();
  const api = useApi();
  const history = useInfiniteQuery({
    queryKey: ["member", memberId, "transactions"],
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page: Schemas["EntryPage"]) => page.next_cursor ?? undefined,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/v1/members/{member_id}/transactions", {
          params: { path: { member_id: memberId }, query: { limit: 25, ...(pageParam ? { cursor: pageParam } : {}) } },
        }),
      ),
  });
  if (history.isPending) return <Loading />;
  const entries = history.data?.pages.flatMap((page) => page.entries) ?? [];
  return (
    <Stack>
      <ErrorNote error={history.error} />
      {entries.length === 0 && !history.isError && <Text>{t("member.noHistory")}</Text>}
      {entries.length > 0 && (
        <ScrollTable minWidth={520} label={t("member.history")}>
          <Table striped verticalSpacing="xs" aria-label={t("member.history")} data-testid="history">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t("member.when")}</Table.Th>
                <Table.Th>{t("member.what")}</Table.Th>
                <Table.Th>{t("member.operation")}</Table.Th>
                <Table.Th ta="right">{t("member.points")}</Table.Th>
                <Table.Th ta="right">{t("member.balanceAfter")}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {entries.map((entry) => (
                <Table.Tr key={entry.entry_id}>
                  <Table.Td>{dateTime(entry.created_at, i18n.language)}</Table.Td>
                  <Table.Td>{t(`entryKind.${entry.kind}`, { defaultValue: entry.kind })}</Table.Td>
                  <Table.Td>
                    <code>{entry.operation}</code>
                  </Table.Td>
                  <Table.Td ta="right" c={entry.points < 0 ? "red.9" : "teal.9"}>
                    {entry.points > 0 ? "+" : ""}
                    {formatNumber(entry.points, i18n.language)}
                  </Table.Td>
                  <Table.Td ta="right">{formatNumber(entry.balance_after, i18n.language)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </ScrollTable>
      )}
      {history.hasNextPage && (
        <Button variant="default" onClick={() => void history.fetchNextPage()} loading={history.isFetchingNextPage}>
          {t("common.more")}
        </Button>
      )}
    </Stack>
  );
}

const CONSENTS = ["sms", "push", "email", "marketing"] as const;

function Consents({ memberId }: { memberId: string }) {
  const { t } = useTranslation();
  const api = useApi();
  const queryClient = useQueryClient();
  const key = ["member", memberId, "consents"];
  const consents = useQuery({
    queryKey: key,
    queryFn: () => unwrap(api.GET("/v1/members/{member_id}/consents", { params: { path: { member_id: memberId } } })),
  });
  const change = useMutation({
    mutationFn: (update: Schemas["ConsentsUpdate"]) =>
      unwrap(api.PUT("/v1/members/{member_id}/consents", { params: { path: { member_id: memberId } }, body: update })),
    onSuccess: (saved) => queryClient.setQueryData(key, saved),
  });
  if (consents.isPending) return <Loading />;
  return (
    <Stack>
      <ErrorNote error={consents.error ?? change.error} />
      {consents.data &&
        CONSENTS.map((channel) => (
          <Switch
            key={channel}
            size="lg"
            label={t(`consents.${channel}`)}
            checked={consents.data[channel]}
            disabled={change.isPending}
            onChange={(event) => change.mutate({ [channel]: event.currentTarget.checked })}
          />
        ))}
    </Stack>
  );
}

function Deliveries({ memberId }: { memberId: string }) {
  const { t, i18n } = useTranslation();
  const api = useApi();
  const deliveries = useQuery({
    queryKey: ["member", memberId, "notifications"],
    queryFn: () =>
      unwrap(api.GET("/v1/members/{member_id}/notifications", { params: { path: { member_id: memberId } } })),
  });
  if (deliveries.isPending) return <Loading />;
  const rows = deliveries.data?.deliveries ?? [];
  return (
    <Stack>
      <ErrorNote error={deliveries.error} />
      {rows.length === 0 && !deliveries.isError && <Text>{t("member.noNotifications")}</Text>}
      {rows.length > 0 && (
        <ScrollTable minWidth={520} label={t("member.notifications")}>
          <Table striped aria-label={t("member.notifications")}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t("member.when")}</Table.Th>
                <Table.Th>{t("member.what")}</Table.Th>
                <Table.Th>{t("member.channel")}</Table.Th>
                <Table.Th>{t("member.deliveryStatus")}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rows.map((row) => (
                <Table.Tr key={row.event_id}>
                  <Table.Td>{dateTime(row.at, i18n.language)}</Table.Td>
                  <Table.Td>{t(`notificationKind.${row.kind}`, { defaultValue: row.kind })}</Table.Td>
                  <Table.Td>{row.channel ? t(`channels.${row.channel}`, { defaultValue: row.channel }) : "—"}</Table.Td>
                  <Table.Td>
                    <Badge variant="light" color={row.status === "sent" ? "green" : "gray"}>
                      {t(`deliveryStatus.${row.status}`, { defaultValue: row.status })}
                    </Badge>
                    {row.reason && (
                      <Text size="sm" span ml="xs">
                        {row.reason}
                      </Text>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </ScrollTable>
      )}
    </Stack>
  );
}

/** A member's page: balance and tier, corrections, history, cards, coupons, consents, notifications. */
export default function MemberPage() {
  const { t } = useTranslation();
  const { memberId = "" } = useParams();
  const member = useMember(memberId);
  const { session } = useSession();
  const caring = session !== null && canCareForMembers(session.role);
  return (
    <Stack>
      <Group>
        <Anchor component={Link} to="/members" size="lg">
          <Group gap={4}>
            <IconArrowLeft size={18} aria-hidden />
            {t("screens.members")}
          </Group>
        </Anchor>
      </Group>
      {member.isPending && <Loading />}
      <ErrorNote error={member.error} />
      {member.data && (
        <>
          <MemberSummary
            member={member.data}
            actions={
              <>
                <MemberActions member={member.data} />
                {caring && <CareActions member={member.data} />}
              </>
            }
          />
          <Tabs defaultValue="history" keepMounted={false}>
            <Tabs.List>
              <Tabs.Tab value="history">{t("member.history")}</Tabs.Tab>
              {caring && <Tabs.Tab value="cards">{t("cards.title")}</Tabs.Tab>}
              <Tabs.Tab value="coupons">{t("cards.coupons")}</Tabs.Tab>
              <Tabs.Tab value="consents">{t("member.consents")}</Tabs.Tab>
              <Tabs.Tab value="notifications">{t("member.notifications")}</Tabs.Tab>
            </Tabs.List>
            <Tabs.Panel value="history" pt="md">
              <History memberId={memberId} />
            </Tabs.Panel>
            <Tabs.Panel value="cards" pt="md">
              <MemberCards member={member.data} />
            </Tabs.Panel>
            <Tabs.Panel value="coupons" pt="md">
              <MemberCoupons member={member.data} />
            </Tabs.Panel>
            <Tabs.Panel value="consents" pt="md">
              <Consents memberId={memberId} />
            </Tabs.Panel>
            <Tabs.Panel value="notifications" pt="md">
              <Deliveries memberId={memberId} />
            </Tabs.Panel>
          </Tabs>
        </>
      )}
    </Stack>
  );
}
