import { Badge, Button, Group, Paper, Select, SimpleGrid, Stack, Table, Text, TextInput } from "@mantine/core";
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";

import { type Schemas, unwrap } from "../../api/client";
import type { paths } from "../../api/schema";
import { useApi } from "../../auth/SessionContext";
import { ErrorNote } from "../../layout/ErrorNote";
import { Loading } from "../../layout/Loading";
import { ScrollTable } from "../../layout/ScrollTable";
import { formatNumber } from "../../lib/money";

interface Filters {
  tier: string | null;
  status: "active" | "blocked" | null;
  enrolled_from: string;
  enrolled_to: string;
  last_purchase_from: string;
  last_purchase_to: string;
}

const NO_FILTERS: Filters = {
  tier: null,
  status: null,
  enrolled_from: "",
  enrolled_to: "",
  last_purchase_from: "",
  last_purchase_to: "",
};

const PAGE_SIZE = 25;

type ListQuery = NonNullable<paths["/v1/members/list"]["get"]["parameters"]["query"]>;

/** The filters as the API's query: only what is set. */
function listQuery(filters: Filters, cursor: string | undefined): ListQuery {
  const query: ListQuery = { limit: PAGE_SIZE };
  if (filters.tier !== null) query.tier = filters.tier;
  if (filters.status !== null) query.status = filters.status;
  if (filters.enrolled_from !== "") query.enrolled_from = filters.enrolled_from;
  if (filters.enrolled_to !== "") query.enrolled_to = filters.enrolled_to;
  if (filters.last_purchase_from !== "") query.last_purchase_from = filters.last_purchase_from;
  if (filters.last_purchase_to !== "") query.last_purchase_to = filters.last_purchase_to;
  if (cursor !== undefined) query.cursor = cursor;
  return query;
}

function shortDate(iso: string | null | undefined, language: string): string {
  return iso ? new Date(iso).toLocaleDateString(language === "en" ? "en-GB" : "ru-RU") : "—";
}

/** Every member, newest first, filtered by tier, status, enrolment and last purchase, page by page. */
export function MemberList() {
  const { t, i18n } = useTranslation();
  const api = useApi();
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const program = useQuery({ queryKey: ["program"], queryFn: () => unwrap(api.GET("/v1/program")) });
  const tiers = program.data?.program.tiers?.levels.map((level) => level.name) ?? [];
  const list = useInfiniteQuery({
    queryKey: ["members", "list", filters],
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page: Schemas["MemberPage"]) => page.next_cursor ?? undefined,
    queryFn: ({ pageParam }) => unwrap(api.GET("/v1/members/list", { params: { query: listQuery(filters, pageParam) } })),
  });
  const set = (change: Partial<Filters>) => setFilters((current) => ({ ...current, ...change }));
  const members = list.data?.pages.flatMap((page) => page.members) ?? [];
  return (
    <Paper withBorder p="md" component="section" aria-label={t("memberList.title")}>
      <Stack>
        <SimpleGrid cols={{ base: 1, xs: 2, md: 3 }}>
          <Select
            label={t("memberList.tier")}
            placeholder={t("memberList.any")}
            data={tiers}
            value={filters.tier}
            onChange={(tier) => set({ tier })}
            clearable
          />
          <Select
            label={t("memberList.status")}
            placeholder={t("memberList.any")}
            data={[
              { value: "active", label: t("memberList.active") },
              { value: "blocked", label: t("memberList.blocked") },
            ]}
            value={filters.status}
            onChange={(status) => set({ status: status === "active" || status === "blocked" ? status : null })}
            clearable
          />
          <Group grow gap="xs" align="flex-end">
            <TextInput type="date" label={t("memberList.enrolledFrom")} value={filters.enrolled_from} onChange={(e) => set({ enrolled_from: e.currentTarget.value })} />
            <TextInput type="date" label={t("memberList.enrolledTo")} value={filters.enrolled_to} onChange={(e) => set({ enrolled_to: e.currentTarget.value })} />
          </Group>
          <Group grow gap="xs" align="flex-end">
            <TextInput type="date" label={t("memberList.boughtFrom")} value={filters.last_purchase_from} onChange={(e) => set({ last_purchase_from: e.currentTarget.value })} />
            <TextInput type="date" label={t("memberList.boughtTo")} value={filters.last_purchase_to} onChange={(e) => set({ last_purchase_to: e.currentTarget.value })} />
          </Group>
        </SimpleGrid>
        <ErrorNote error={list.error} />
        {list.isPending && <Loading />}
        {list.isSuccess && members.length === 0 && <Text c="dimmed">{t("memberList.empty")}</Text>}
        {members.length > 0 && (
          <ScrollTable minWidth={720} label={t("memberList.title")}>
            <Table striped highlightOnHover verticalSpacing="sm" aria-label={t("memberList.title")} data-testid="member-list">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t("members.name")}</Table.Th>
                  <Table.Th>{t("members.phone")}</Table.Th>
                  <Table.Th>{t("member.card")}</Table.Th>
                  <Table.Th>{t("member.tier")}</Table.Th>
                  <Table.Th ta="right">{t("member.balance")}</Table.Th>
                  <Table.Th>{t("memberList.enrolled")}</Table.Th>
                  <Table.Th>{t("memberList.lastPurchase")}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {members.map((member) => (
                  <Table.Tr key={member.member_id}>
                    <Table.Td>
                      <Link to={`/members/${member.member_id}`}>{member.name ?? t("member.noName")}</Link>
                      {member.status === "blocked" && (
                        <Badge color="red.9" ml="xs">
                          {t("member.status.blocked")}
                        </Badge>
                      )}
                    </Table.Td>
                    <Table.Td>{member.phone}</Table.Td>
                    <Table.Td>{member.card_number}</Table.Td>
                    <Table.Td>{member.tier ?? "—"}</Table.Td>
                    <Table.Td ta="right">{formatNumber(member.balance, i18n.language)}</Table.Td>
                    <Table.Td>{shortDate(member.created_at, i18n.language)}</Table.Td>
                    <Table.Td>{shortDate(member.last_purchase_at, i18n.language)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </ScrollTable>
        )}
        {list.hasNextPage && (
          <Button variant="default" size="md" onClick={() => void list.fetchNextPage()} loading={list.isFetchingNextPage}>
            {t("common.more")}
          </Button>
        )}
      </Stack>
    </Paper>
  );
}
