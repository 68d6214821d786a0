/** A member's cards: link a plastic one, replace a lost one, block one; and the member's coupons. */
import { Badge, Button, Group, Modal, Stack, Table, Text, TextInput } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";

import { unwrap } from "../../api/client";
import { useApi } from "../../auth/SessionContext";
import { ErrorNote } from "../../layout/ErrorNote";
import { ScrollTable } from "../../layout/ScrollTable";
import { formatNumber } from "../../lib/money";
import { memberKey } from "../../members/queries";
import { fieldErrorsOf, type MemberDetail } from "./MemberCare";

type CardAction = { kind: "replace" | "block"; card: string };

function useCardChange(member: MemberDetail, done: () => void) {
  const queryClient = useQueryClient();
  return (detail: MemberDetail) => {
    queryClient.setQueryData(memberKey(member.member_id), detail);
    done();
  };
}

function CardDialog({ member, action, onClose }: { member: MemberDetail; action: CardAction; onClose: () => void }) {
  const { t } = useTranslation();
  const api = useApi();
  const [newNumber, setNewNumber] = useState("");
  const [reason, setReason] = useState("");
  const saved = useCardChange(member, onClose);
  const path = { member_id: member.member_id, card_number: action.card };
  const change = useMutation({
    mutationFn: () =>
      action.kind === "replace"
        ? unwrap(
            api.POST("/v1/members/{member_id}/cards/{card_number}/replace", {
              params: { path },
              body: { new_card_number: newNumber.trim() || null, reason: reason.trim() || null },
            }),
          )
        : unwrap(api.POST("/v1/members/{member_id}/cards/{card_number}/block", { params: { path }, body: { reason: reason.trim() || null } })),
    onSuccess: saved,
  });
  const errors = fieldErrorsOf(change.error);
  return (
    <Modal opened onClose={onClose} title={t(action.kind === "replace" ? "cards.replaceTitle" : "cards.blockTitle", { card: action.card })}>
      <Stack>
        <Text size="sm">{t(action.kind === "replace" ? "cards.replaceExplained" : "cards.blockExplained")}</Text>
        {action.kind === "replace" && (
          <TextInput
            label={t("cards.newNumber")}
            description={t("cards.newNumberHint")}
            inputMode="numeric"
            value={newNumber}
            onChange={(e) => setNewNumber(e.currentTarget.value)}
            error={errors?.new_card_number}
          />
        )}
        <TextInput label={t("cards.reason")} value={reason} onChange={(e) => setReason(e.currentTarget.value)} maxLength={500} />
        {errors?.new_card_number === undefined && <ErrorNote error={change.error} />}
        <Button size="lg" color={action.kind === "block" ? "red" : undefined} loading={change.isPending} onClick={() => change.mutate()}>
          {t(action.kind === "replace" ? "cards.replace" : "cards.block")}
        </Button>
      </Stack>
    </Modal>
  );
}

function LinkCard({ member }: { member: MemberDetail }) {
  const { t } = useTranslation();
  const api = useApi();
  const [number, setNumber] = useState("");
  const saved = useCardChange(member, () => setNumber(""));
  const link = useMutation({
    mutationFn: () =>
      unwrap(api.POST("/v1/members/{member_id}/cards", { params: { path: { member_id: member.member_id } }, body: { card_number: number.trim() } })),
    onSuccess: saved,
  });
  const errors = fieldErrorsOf(link.error);
  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        link.mutate();
      }}
    >
      <Group align="flex-start" wrap="wrap">
        <TextInput
          label={t("cards.link")}
          description={t("cards.linkHint")}
          inputMode="numeric"
          value={number}
          onChange={(e) => setNumber(e.currentTarget.value)}
          error={errors?.card_number ?? (link.error && errors === null ? errorMessage(link.error) : undefined)}
          style={{ flex: "1 1 16rem" }}
        />
        <Button type="submit" mt={{ base: 0, xs: 48 }} disabled={number.trim() === ""} loading={link.isPending}>
          {t("cards.linkButton")}
        </Button>
      </Group>
    </form>
  );
}

function errorMessage(error: unknown): string | undefined {
  return error instanceof Error ? error.message : undefined;
}

export function MemberCards({ member }: { member: MemberDetail }) {
  const { t } = useTranslation();
  const [action, setAction] = useState<CardAction | null>(null);
  return (
    <Stack>
      <ScrollTable minWidth={480} label={t("cards.title")}>
        <Table verticalSpacing="sm" aria-label={t("cards.title")} data-testid="member-cards">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t("member.card")}</Table.Th>
              <Table.Th>{t("cards.state")}</Table.Th>
              <Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(member.cards ?? [member.card_number]).map((card) => (
              <Table.Tr key={card}>
                <Table.Td>{card}</Table.Td>
                <Table.Td>
                  <Badge color="teal.9">
                    {t("cards.active")}
                  </Badge>
                </Table.Td>
                <Table.Td>
                  <Group gap="xs" justify="flex-end">
                    <Button variant="default" onClick={() => setAction({ kind: "replace", card })}>
                      {t("cards.replace")}
                    </Button>
                    <Button variant="subtle" color="red" onClick={() => setAction({ kind: "block", card })}>
                      {t("cards.block")}
                    </Button>
                  </Group>
                </Table.Td>
              </Table.Tr>
            ))}
            {(member.blocked_cards ?? []).map((card) => (
              <Table.Tr key={card}>
                <Table.Td c="dimmed">{card}</Table.Td>
                <Table.Td>
                  <Badge color="red.9">
                    {t("cards.blocked")}
                  </Badge>
                </Table.Td>
                <Table.Td />
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </ScrollTable>
      <LinkCard member={member} />
      {action !== null && <CardDialog member={member} action={action} onClose={() => setAction(null)} />}
    </Stack>
  );
}

export function MemberCoupons({ member }: { member: MemberDetail }) {
  const { t, i18n } = useTranslation();
  const coupons = member.coupons ?? [];
  if (coupons.length === 0) return <Text>{t("cards.noCoupons")}</Text>;
  return (
    <ScrollTable minWidth={480} label={t("cards.coupons")}>
      <Table striped aria-label={t("cards.coupons")}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{t("cards.code")}</Table.Th>
            <Table.Th>{t("cards.reward")}</Table.Th>
            <Table.Th ta="right">{t("member.points")}</Table.Th>
            <Table.Th>{t("cards.expires")}</Table.Th>
            <Table.Th>{t("cards.couponStatus")}</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {coupons.map((coupon) => (
            <Table.Tr key={coupon.code}>
              <Table.Td>
                <code>{coupon.code}</code>
              </Table.Td>
              <Table.Td>{coupon.reward_name}</Table.Td>
              <Table.Td ta="right">{formatNumber(coupon.points_spent, i18n.language)}</Table.Td>
              <Table.Td>{coupon.expires_on}</Table.Td>
              <Table.Td>{t(`cards.couponStatuses.${coupon.status}`)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </ScrollTable>
  );
}
