import { Alert, Badge, Button, Group, Stack, Text, TextInput } from "@mantine/core";
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";

import { type Schemas, unwrap } from "../../api/client";
import { useApi } from "../../auth/SessionContext";
import { ErrorNote } from "../../layout/ErrorNote";

const STATUS_COLOR: Record<string, string> = { issued: "green", used: "gray", expired: "red" };

/** A reward coupon at the till: check the code the shopper shows, then use it once. */
export function CouponPanel() {
  const { t, i18n } = useTranslation();
  const api = useApi();
  const [code, setCode] = useState("");
  const [coupon, setCoupon] = useState<Schemas["CouponView"] | null>(null);
  const check = useMutation({
    mutationFn: (value: string) =>
      unwrap(api.GET("/v1/coupons/{code}", { params: { path: { code: value.trim().toUpperCase() } } })),
    onSuccess: setCoupon,
  });
  const redeem = useMutation({
    mutationFn: (value: string) =>
      unwrap(api.POST("/v1/coupons/{code}/redeem", { params: { path: { code: value } }, body: {} })),
    onSuccess: setCoupon,
  });
  return (
    <Stack component="section" aria-label={t("till.coupon")}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          setCoupon(null);
          redeem.reset();
          check.mutate(code);
        }}
      >
        <Group align="flex-end" wrap="wrap">
          <TextInput
            size="xl"
            label={t("till.couponCode")}
            value={code}
            onChange={(event) => setCode(event.currentTarget.value)}
            autoComplete="off"
            autoCapitalize="characters"
            style={{ flex: "1 1 14rem" }}
          />
          <Button type="submit" size="xl" loading={check.isPending} disabled={code.trim() === ""}>
            {t("till.lookUp")}
          </Button>
        </Group>
      </form>
      <ErrorNote error={check.error ?? redeem.error} />
      {coupon !== null && (
        <Alert color={STATUS_COLOR[coupon.status] ?? "gray"} title={coupon.reward_name} data-testid="coupon">
          <Stack gap="xs">
            <Group>
              <Badge size="lg" color={STATUS_COLOR[coupon.status] ?? "gray"}>
                {t(`coupon.status.${coupon.status}`)}
              </Badge>
              <Text>
                {t("till.couponValidUntil", { date: new Date(coupon.expires_on).toLocaleDateString(i18n.language) })}
              </Text>
            </Group>
            {coupon.status === "issued" && (
              <Button size="xl" color="green" loading={redeem.isPending} onClick={() => redeem.mutate(coupon.code)}>
                {t("till.useCoupon")}
              </Button>
            )}
          </Stack>
        </Alert>
      )}
    </Stack>
  );
}
