import { Alert, Button, Group, List, NumberInput, Paper, SegmentedControl, Stack, Table, Text, TextInput } from "@mantine/core";
import { useDebouncedValue, useMediaQuery } from "@mantine/hooks";
import { IconCheck, IconReceipt } from "@tabler/icons-react";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useRef, useState } from "react";
import { useTranslation } from "react-i18next";

import { type Schemas, unwrap } from "../../api/client";
import { useApi } from "../../auth/SessionContext";
import { ErrorNote } from "../../layout/ErrorNote";
import { clientId } from "../../lib/ids";
import { formatKopecks, formatNumber, parseRoubles } from "../../lib/money";
import type { Member } from "../../members/queries";
import { RuleName } from "./RuleName";

type Mode = "immediate" | "hold";

interface CheckIds {
  transactionId: string;
  redemptionId: string;
}

/** What was sent for this check: a retry sends exactly this again, under the same ids. */
interface Submitted {
  amount: number;
  points: number;
  mode: Mode;
}

interface Outcome {
  redemption: Schemas["RedemptionView"] | null;
  purchase: Schemas["PurchaseResult"] | null;
}

const newIds = (): CheckIds => ({ transactionId: clientId("till"), redemptionId: clientId("till-r") });

/**
 * One check: the amount, the quote (how many points it can take and what they pay), then earn,
 * or redeem and earn, at once or as a hold confirmed when the payment goes through. Every step is
 * idempotent on the check's ids, so "try again" after a lost answer never applies anything twice.
 */
export function CheckPanel({ member, onChanged }: { member: Member; onChanged: () => void }) {
  const { t, i18n } = useTranslation();
  const api = useApi();
  const money = (kopecks: number) => formatKopecks(kopecks, i18n.language);
  const [amountText, setAmountText] = useState("");
  const [points, setPoints] = useState(0);
  const [mode, setMode] = useState<Mode>("immediate");
  const [ids, setIds] = useState(newIds);
  const [submitted, setSubmitted] = useState<Submitted | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  // A redemption applied for a check whose purchase then failed: abandoning the check gives
  // its points back.
  const applied = useRef<string | null>(null);
  const amount = parseRoubles(amountText);
  const narrow = useMediaQuery("(max-width: 30em)");
  const [asked] = useDebouncedValue({ amount, points }, 250);
  const locked = submitted !== null;

  const quote = useQuery({
    queryKey: ["quote", member.member_id, asked.amount, asked.points],
    enabled: asked.amount !== null && asked.amount > 0 && !locked,
    queryFn: () =>
      unwrap(
        api.POST("/v1/redemptions/quote", {
          body: {
            member_id: member.member_id,
            amount_kopecks: asked.amount ?? 0,
            ...(asked.points > 0 ? { points: asked.points } : {}),
          },
        }),
      ),
  });
  const quoted = quote.data;
  const quoteCurrent = quoted !== undefined && asked.amount === amount && asked.points === points && !quote.isFetching;
  const pointsDiscount = points > 0 ? (quoted?.discount_kopecks ?? 0) : 0;
  const tierDiscount = quoted?.tier_discount_kopecks ?? 0;

  const purchase = async (sent: Submitted, redemption: Schemas["RedemptionView"] | null) =>
    unwrap(
      api.POST("/v1/purchases", {
        body: {
          transaction_id: ids.transactionId,
          member_id: member.member_id,
          // what the shopper pays: after the points and the tier's discount
          amount_kopecks: Math.max(sent.amount - (redemption?.discount_kopecks ?? 0) - tierDiscount, 0),
          channel: "pos",
        },
      }),
    );

  const run = useMutation({
    mutationFn: async (sent: Submitted): Promise<Outcome> => {
      let redemption: Schemas["RedemptionView"] | null = null;
      if (sent.points > 0) {
        redemption = await unwrap(
          api.POST("/v1/redemptions", {
            body: {
              redemption_id: ids.redemptionId,
              member_id: member.member_id,
              points: sent.points,
              amount_kopecks: sent.amount,
              mode: sent.mode,
              transaction_id: ids.transactionId,
            },
          }),
        );
        if (sent.mode === "hold") return { redemption, purchase: null };
        applied.current = redemption.redemption_id;
      }
      const recorded = await purchase(sent, redemption);
      applied.current = null;
      return { redemption, purchase: recorded };
    },
    onSuccess: (result) => {
      setOutcome(result);
      onChanged();
    },
  });
  const confirm = useMutation({
    mutationFn: async (sent: Submitted): Promise<Outcome> => {
      const redemption = await unwrap(
        api.POST("/v1/redemptions/{redemption_id}/confirm", { params: { path: { redemption_id: ids.redemptionId } } }),
      );
      return { redemption, purchase: await purchase(sent, redemption) };
    },
    onSuccess: (result) => {
      setOutcome(result);
      onChanged();
    },
  });
  const cancel = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/v1/redemptions/{redemption_id}/cancel", { params: { path: { redemption_id: ids.redemptionId } } }),
      ),
    onSuccess: () => {
      // The check is open again; a new hold needs a new id (the cancelled one stays cancelled).
      setIds((old) => ({ ...old, redemptionId: clientId("till-r") }));
      setSubmitted(null);
      setOutcome(null);
      onChanged();
    },
  });

  const startOver = () => {
    const orphan = applied.current;
    applied.current = null;
    if (orphan !== null) {
      void api
        .POST("/v1/redemptions/{redemption_id}/cancel", { params: { path: { redemption_id: orphan } } })
        .then(onChanged);
    }
    setAmountText("");
    setPoints(0);
    setMode("immediate");
    setIds(newIds());
    setSubmitted(null);
    setOutcome(null);
    run.reset();
    confirm.reset();
    cancel.reset();
  };
  const submit = () => {
    if (amount === null || amount <= 0) return;
    const sent = submitted ?? { amount, points, mode };
    setSubmitted(sent);
    run.mutate(sent);
  };

  const heldRedemption =
    outcome !== null && outcome.purchase === null && outcome.redemption?.status === "held" ? outcome.redemption : null;
  const recorded = outcome?.purchase ?? null;
  const spent = outcome?.redemption ?? null;
  const held = heldRedemption !== null;
  const done = recorded !== null;
  const busy = run.isPending || confirm.isPending || cancel.isPending;
  const amountError = amountText !== "" && (amount === null || amount <= 0) ? t("till.amountInvalid") : undefined;
  const maxPoints = quoted?.max_points ?? 0;

  return (
    <Stack component="section" aria-label={t("till.check")}>
      <TextInput
        size="xl"
        label={t("till.amount")}
        description={t("till.amountHint")}
        inputMode="decimal"
        autoComplete="off"
        value={amountText}
        onChange={(event) => setAmountText(event.currentTarget.value)}
        error={amountError}
        disabled={locked}
        rightSection={<Text aria-hidden>₽</Text>}
        data-testid="check-amount"
        autoFocus
      />
      {quoted !== undefined && amount !== null && amount > 0 && (
        <Paper withBorder p="md" radius="md" aria-live="polite" data-testid="quote">
          <Stack gap="xs">
            <Text>
              {t("till.quoteCanSpend", {
                points: formatNumber(quoted.max_points, i18n.language),
                money: money(quoted.max_discount_kopecks),
                cap: quoted.cap_percent,
              })}
            </Text>
            <Text size="sm">
              {t("till.quoteSpendable", {
                points: formatNumber(quoted.spendable, i18n.language),
                value: money(quoted.point_value_kopecks),
              })}
            </Text>
            {(quoted.tier_discount_percent ?? 0) > 0 && (
              <Text>
                {t("till.tierDiscount", {
                  tier: quoted.tier ?? "",
                  percent: quoted.tier_discount_percent ?? 0,
                  money: money(tierDiscount),
                })}
              </Text>
            )}
          </Stack>
        </Paper>
      )}
      <ErrorNote error={quote.error} />
      <Group align="flex-end" wrap="wrap">
        <NumberInput
          size="xl"
          label={t("till.pointsToSpend")}
          min={0}
          max={Math.max(maxPoints, 0)}
          clampBehavior="strict"
          allowDecimal={false}
          allowNegative={false}
          value={points}
          onChange={(value) => setPoints(typeof value === "number" ? value : 0)}
          disabled={locked || maxPoints <= 0}
          style={{ flex: "1 1 12rem" }}
          data-testid="points-to-spend"
        />
        <Button size="xl" variant="light" disabled={locked || maxPoints <= 0} onClick={() => setPoints(maxPoints)}>
          {t("till.spendMax")}
        </Button>
        <Button size="xl" variant="default" disabled={locked || points === 0} onClick={() => setPoints(0)}>
          {t("till.spendNone")}
        </Button>
      </Group>
      <SegmentedControl
        size="lg"
        fullWidth
        orientation={narrow ? "vertical" : "horizontal"}
        value={mode}
        onChange={(value) => setMode(value === "hold" ? "hold" : "immediate")}
        disabled={locked || points === 0}
        aria-label={t("till.modeLabel")}
        data={[
          { value: "immediate", label: t("till.modeImmediate") },
          { value: "hold", label: t("till.modeHold") },
        ]}
      />
      {amount !== null && amount > 0 && (
        <Text size="xl" fw={700} data-testid="to-pay">
          {t("till.toPay", { money: money(Math.max(amount - pointsDiscount - tierDiscount, 0)) })}
        </Text>
      )}
      {!held && !done && (
        <Button
          size="xl"
          h={72}
          leftSection={<IconReceipt aria-hidden />}
          onClick={submit}
          loading={run.isPending}
          disabled={amount === null || amount <= 0 || (points > 0 && !quoteCurrent && !locked)}
          data-testid="check-submit"
        >
          {run.isError
            ? t("common.tryAgain")
            : points > 0 && mode === "hold"
              ? t("till.hold", { points })
              : points > 0
                ? t("till.redeemAndRecord", { points })
                : t("till.record")}
        </Button>
      )}
      <ErrorNote error={run.error ?? confirm.error ?? cancel.error} />
      {heldRedemption !== null && (
        <Alert color="yellow" title={t("till.heldTitle")} data-testid="hold">
          <Stack>
            <Text>
              {t("till.heldText", {
                points: heldRedemption.points,
                money: money(heldRedemption.discount_kopecks),
                until: heldRedemption.hold_expires_at
                  ? new Date(heldRedemption.hold_expires_at).toLocaleTimeString(i18n.language)
                  : "—",
              })}
            </Text>
            <Group grow>
              <Button
                size="xl"
                color="green"
                loading={confirm.isPending}
                disabled={busy}
                onClick={() => submitted && confirm.mutate(submitted)}
              >
                {t("till.confirmHold")}
              </Button>
              <Button size="xl" variant="default" loading={cancel.isPending} disabled={busy} onClick={() => cancel.mutate()}>
                {t("till.cancelHold")}
              </Button>
            </Group>
          </Stack>
        </Alert>
      )}
      {recorded !== null && (
        <Alert color="green" icon={<IconCheck aria-hidden />} title={t("till.doneTitle")} data-testid="check-result">
          <Stack gap="xs">
            {spent !== null && (
              <Text>
                {t("till.redeemed", {
                  points: spent.points,
                  money: money(spent.discount_kopecks),
                })}
              </Text>
            )}
            <Text fw={700}>{t("till.earned", { points: recorded.points_earned })}</Text>
            {recorded.reason && <Text>{t("till.nothingEarned", { reason: recorded.reason })}</Text>}
            {recorded.breakdown.length > 0 && (
              <Table aria-label={t("till.breakdown")} withRowBorders={false}>
                <Table.Tbody>
                  {recorded.breakdown.map((award) => (
                    <Table.Tr key={award.rule}>
                      <Table.Td>
                        <RuleName rule={award.rule} />
                      </Table.Td>
                      <Table.Td ta="right">+{award.points}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            )}
            {(recorded.coupons ?? []).length > 0 && (
              <List>
                {(recorded.coupons ?? []).map((code) => (
                  <List.Item key={code}>{t("till.stampCoupon", { code })}</List.Item>
                ))}
              </List>
            )}
            <Text>
              {t("till.balanceAfter", {
                balance: formatNumber(recorded.balance, i18n.language),
                pending: formatNumber(recorded.pending, i18n.language),
              })}
            </Text>
            <Text size="sm">
              {t("till.transaction")}: <code>{recorded.transaction_id}</code>
            </Text>
          </Stack>
        </Alert>
      )}
      {(done || (!held && run.isError)) && (
        <Button size="xl" variant="outline" onClick={startOver} data-testid="new-check">
          {t("till.newCheck")}
        </Button>
      )}
    </Stack>
  );
}
