import { Alert, Button, Group, Modal, SegmentedControl, Select, Stack, Text, TextInput } from "@mantine/core";
import { IconGift, IconStar } from "@tabler/icons-react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";

import { unwrap } from "../../api/client";
import { useApi } from "../../auth/SessionContext";
import { ErrorNote } from "../../layout/ErrorNote";
import { clientId } from "../../lib/ids";
import { formatNumber } from "../../lib/money";
import { type Member, memberKey } from "../../members/queries";

/** Spend the member's points on a reward for them: a coupon with a code, once per claim id. */
function GiveReward({ member, onClose }: { member: Member; onClose: () => void }) {
  const { t, i18n } = useTranslation();
  const api = useApi();
  const queryClient = useQueryClient();
  const [claimId] = useState(() => clientId("claim"));
  const [rewardId, setRewardId] = useState<string | null>(null);
  const rewards = useQuery({ queryKey: ["rewards"], queryFn: () => unwrap(api.GET("/v1/rewards")) });
  const claim = useMutation({
    mutationFn: (reward: string) =>
      unwrap(api.POST("/v1/coupons", { body: { claim_id: claimId, member_id: member.member_id, reward_id: reward } })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: memberKey(member.member_id) }),
  });
  const choices = (rewards.data?.rewards ?? [])
    .filter((reward) => reward.active)
    .map((reward) => ({
      value: reward.reward_id,
      label: `${reward.name} · ${formatNumber(reward.cost_points, i18n.language)}`,
      disabled: reward.cost_points > member.spendable,
    }));
  return (
    <Modal opened onClose={onClose} title={t("memberActions.giveReward")} size="md">
      <Stack>
        <Text>{t("memberActions.spendable", { points: formatNumber(member.spendable, i18n.language) })}</Text>
        <Select
          label={t("memberActions.reward")}
          data={choices}
          value={rewardId}
          onChange={setRewardId}
          disabled={claim.isSuccess}
          nothingFoundMessage={t("rewards.none")}
        />
        <ErrorNote error={rewards.error ?? claim.error} />
        {claim.data ? (
          <Alert color="green" title={t("memberActions.couponIssued")} role="status">
            {t("memberActions.couponCode", { code: claim.data.code })}
          </Alert>
        ) : (
          <Button size="lg" disabled={rewardId === null} loading={claim.isPending} onClick={() => rewardId && claim.mutate(rewardId)}>
            {t("memberActions.issue")}
          </Button>
        )}
      </Stack>
    </Modal>
  );
}

/** The program's bonus for a review or a survey, once per review (its id in the shop's system). */
function GrantBonus({ member, onClose }: { member: Member; onClose: () => void }) {
  const { t } = useTranslation();
  const api = useApi();
  const queryClient = useQueryClient();
  const [kind, setKind] = useState<"review" | "survey">("review");
  const [externalId, setExternalId] = useState("");
  const grant = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/v1/members/{member_id}/bonus-actions", {
          params: { path: { member_id: member.member_id } },
          body: { type: kind, external_id: externalId.trim() },
        }),
      ),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: memberKey(member.member_id) }),
  });
  return (
    <Modal opened onClose={onClose} title={t("memberActions.bonus")} size="md">
      <Stack>
        <SegmentedControl
          aria-label={t("memberActions.bonusKind")}
          value={kind}
          onChange={(value) => setKind(value === "survey" ? "survey" : "review")}
          data={[
            { value: "review", label: t("memberActions.review") },
            { value: "survey", label: t("memberActions.survey") },
          ]}
        />
        <TextInput
          label={t("memberActions.externalId")}
          description={t("memberActions.externalIdHint")}
          value={externalId}
          onChange={(event) => setExternalId(event.currentTarget.value)}
        />
        <ErrorNote error={grant.error} />
        {grant.data ? (
          <Alert color="green" role="status">
            {t("memberActions.bonusGranted", { points: grant.data.points, balance: grant.data.balance })}
          </Alert>
        ) : (
          <Button size="lg" disabled={externalId.trim() === ""} loading={grant.isPending} onClick={() => grant.mutate()}>
            {t("memberActions.grant")}
          </Button>
        )}
      </Stack>
    </Modal>
  );
}

export function MemberActions({ member }: { member: Member }) {
  const { t } = useTranslation();
  const [open, setOpen] = useState<"reward" | "bonus" | null>(null);
  return (
    <Group gap="xs">
      <Button variant="light" leftSection={<IconGift size={18} aria-hidden />} onClick={() => setOpen("reward")}>
        {t("memberActions.giveReward")}
      </Button>
      <Button variant="light" leftSection={<IconStar size={18} aria-hidden />} onClick={() => setOpen("bonus")}>
        {t("memberActions.bonus")}
      </Button>
      {open === "reward" && <GiveReward member={member} onClose={() => setOpen(null)} />}
      {open === "bonus" && <GrantBonus member={member} onClose={() => setOpen(null)} />}
    </Group>
  );
}
