import { Alert, Button, Stack, Text, TextInput } from "@mantine/core";
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";

import { unwrap } from "../../api/client";
import { useApi } from "../../auth/SessionContext";
import { ErrorNote } from "../../layout/ErrorNote";
import { clientId } from "../../lib/ids";
import { formatKopecks, formatNumber, parseRoubles } from "../../lib/money";

/** A refund of part or all of a purchase: its points come back off the member, once per refund id. */
export function RefundPanel({ onChanged }: { onChanged: () => void }) {
  const { t, i18n } = useTranslation();
  const api = useApi();
  const [transactionId, setTransactionId] = useState("");
  const [amountText, setAmountText] = useState("");
  const [refundId, setRefundId] = useState(() => clientId("till-refund"));
  const amount = parseRoubles(amountText);
  const refund = useMutation({
    mutationFn: (value: { transactionId: string; amount: number }) =>
      unwrap(
        api.POST("/v1/purchases/{transaction_id}/refunds", {
          params: { path: { transaction_id: value.transactionId } },
          body: { refund_id: refundId, amount_kopecks: value.amount },
        }),
      ),
    onSuccess: () => {
      setRefundId(clientId("till-refund"));
      onChanged();
    },
  });
  return (
    <Stack component="section" aria-label={t("till.refund")}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (amount !== null && amount > 0) refund.mutate({ transactionId: transactionId.trim(), amount });
        }}
      >
        <Stack>
          <TextInput
            size="xl"
            label={t("till.refundTransaction")}
            description={t("till.refundTransactionHint")}
            value={transactionId}
            onChange={(event) => setTransactionId(event.currentTarget.value)}
            autoComplete="off"
          />
          <TextInput
            size="xl"
            label={t("till.refundAmount")}
            inputMode="decimal"
            value={amountText}
            onChange={(event) => setAmountText(event.currentTarget.value)}
            error={amountText !== "" && (amount === null || amount <= 0) ? t("till.amountInvalid") : undefined}
          />
          <Button
            type="submit"
            size="xl"
            color="orange"
            loading={refund.isPending}
            disabled={transactionId.trim() === "" || amount === null || amount <= 0}
          >
            {t("till.refundSubmit")}
          </Button>
        </Stack>
      </form>
      <ErrorNote error={refund.error} />
      {refund.data && (
        <Alert color="green" title={t("till.refundDone")} role="status">
          <Text>
            {t("till.refundResult", {
              points: formatNumber(refund.data.points_clawed_back, i18n.language),
              total: formatKopecks(refund.data.refunded_kopecks_total, i18n.language),
              balance: formatNumber(refund.data.balance, i18n.language),
            })}
          </Text>
          {refund.data.debt_added > 0 && <Text>{t("till.refundDebt", { points: refund.data.debt_added })}</Text>}
        </Alert>
      )}
    </Stack>
  );
}
