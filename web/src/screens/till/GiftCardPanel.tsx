import { Alert, Button, Group, Stack, Text, TextInput } from "@mantine/core";
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";

import { type Schemas, unwrap } from "../../api/client";
import { useApi } from "../../auth/SessionContext";
import { ErrorNote } from "../../layout/ErrorNote";
import { clientId } from "../../lib/ids";
import { formatKopecks, parseRoubles } from "../../lib/money";

/** A gift card pays part of a check: its balance, then a redemption once per id. */
export function GiftCardPanel() {
  const { t, i18n } = useTranslation();
  const api = useApi();
  const [code, setCode] = useState("");
  const [amountText, setAmountText] = useState("");
  const [redemptionId, setRedemptionId] = useState(() => clientId("till-g"));
  const [card, setCard] = useState<Schemas["GiftCardView"] | null>(null);
  const [spent, setSpent] = useState<Schemas["GiftCardRedemptionView"] | null>(null);
  const amount = parseRoubles(amountText);
  const look = useMutation({
    mutationFn: (value: string) =>
      unwrap(api.GET("/v1/gift-cards/{code}", { params: { path: { code: value.trim().toUpperCase() } } })),
    onSuccess: (found) => {
      setCard(found);
      setSpent(null);
    },
  });
  const redeem = useMutation({
    mutationFn: (value: { code: string; amount: number }) =>
      unwrap(
        api.POST("/v1/gift-cards/{code}/redeem", {
          params: { path: { code: value.code } },
          body: { redemption_id: redemptionId, amount_kopecks: value.amount },
        }),
      ),
    onSuccess: (result) => {
      setSpent(result);
      setCard((old) => (old === null ? old : { ...old, balance_kopecks: result.balance_kopecks }));
      setRedemptionId(clientId("till-g"));
      setAmountText("");
    },
  });
  const money = (kopecks: number) => formatKopecks(kopecks, i18n.language);
  return (
    <Stack component="section" aria-label={t("till.giftCard")}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          look.mutate(code);
        }}
      >
        <Group align="flex-end" wrap="wrap">
          <TextInput
            size="xl"
            label={t("till.giftCardCode")}
            value={code}
            onChange={(event) => setCode(event.currentTarget.value)}
            autoComplete="off"
            style={{ flex: "1 1 14rem" }}
          />
          <Button type="submit" size="xl" loading={look.isPending} disabled={code.trim() === ""}>
            {t("till.lookUp")}
          </Button>
        </Group>
      </form>
      <ErrorNote error={look.error ?? redeem.error} />
      {card !== null && (
        <Alert color={card.status === "active" ? "blue" : "gray"} title={t("till.giftCardBalance", { money: money(card.balance_kopecks) })}>
          <Stack>
            <Text>
              {t(`giftCard.status.${card.status}`)} · {t("till.giftCardNominal", { money: money(card.nominal_kopecks) })} ·{" "}
              {t("till.validUntil", { date: new Date(card.expires_on).toLocaleDateString(i18n.language) })}
            </Text>
            {card.status === "active" && card.balance_kopecks > 0 && (
              <Group align="flex-end" wrap="wrap">
                <TextInput
                  size="xl"
                  label={t("till.giftCardAmount")}
                  inputMode="decimal"
                  value={amountText}
                  onChange={(event) => setAmountText(event.currentTarget.value)}
                  error={amountText !== "" && (amount === null || amount <= 0) ? t("till.amountInvalid") : undefined}
                  style={{ flex: "1 1 12rem" }}
                />
                <Button
                  size="xl"
                  color="green"
                  loading={redeem.isPending}
                  disabled={amount === null || amount <= 0}
                  onClick={() => amount !== null && redeem.mutate({ code: card.code, amount })}
                >
                  {t("till.giftCardSpend")}
                </Button>
              </Group>
            )}
            {spent !== null && (
              <Text fw={700} role="status">
                {t("till.giftCardSpent", { money: money(spent.amount_kopecks), balance: money(spent.balance_kopecks) })}
              </Text>
            )}
          </Stack>
        </Alert>
      )}
    </Stack>
  );
}
