import { Button, Grid, Stack, Tabs, Title } from "@mantine/core";
import { IconUserX } from "@tabler/icons-react";
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";

import { ErrorNote } from "../../layout/ErrorNote";
import { MemberSummary } from "../../members/MemberSummary";
import { type Member, memberKey, useMember } from "../../members/queries";
import { CheckPanel } from "./CheckPanel";
import { CouponPanel } from "./CouponPanel";
import { GiftCardPanel } from "./GiftCardPanel";
import { MemberFinder } from "./MemberFinder";
import { RefundPanel } from "./RefundPanel";

/** The till: find the shopper, ring up the check; coupons, gift cards and refunds beside it. */
export default function TillScreen() {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [memberId, setMemberId] = useState<string | null>(null);
  const member = useMember(memberId);
  const [tab, setTab] = useState<string | null>("check");

  const found = (value: Member) => {
    queryClient.setQueryData(memberKey(value.member_id), value);
    setMemberId(value.member_id);
  };
  const refreshMember = () => {
    if (memberId !== null) void queryClient.invalidateQueries({ queryKey: memberKey(memberId) });
  };

  return (
    <Stack maw={960} mx="auto">
      <Title order={2}>{t("screens.till")}</Title>
      <Tabs value={tab} onChange={setTab} keepMounted={false}>
        <Tabs.List grow>
          <Tabs.Tab value="check" fz="lg" py="md">
            {t("till.check")}
          </Tabs.Tab>
          <Tabs.Tab value="coupon" fz="lg" py="md">
            {t("till.coupon")}
          </Tabs.Tab>
          <Tabs.Tab value="gift-card" fz="lg" py="md">
            {t("till.giftCard")}
          </Tabs.Tab>
          <Tabs.Tab value="refund" fz="lg" py="md">
            {t("till.refund")}
          </Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="check" pt="md">
          {memberId === null ? (
            <MemberFinder onFound={found} />
          ) : (
            <Grid>
              <Grid.Col span={{ base: 12, md: 5 }}>
                <Stack>
                  {member.data && <MemberSummary member={member.data} />}
                  <ErrorNote error={member.error} />
                  <Button
                    size="lg"
                    variant="default"
                    leftSection={<IconUserX aria-hidden />}
                    onClick={() => setMemberId(null)}
                    data-testid="other-member"
                  >
                    {t("till.otherMember")}
                  </Button>
                </Stack>
              </Grid.Col>
              <Grid.Col span={{ base: 12, md: 7 }}>
                {member.data && <CheckPanel key={memberId} member={member.data} onChanged={refreshMember} />}
              </Grid.Col>
            </Grid>
          )}
        </Tabs.Panel>
        <Tabs.Panel value="coupon" pt="md">
          <CouponPanel />
        </Tabs.Panel>
        <Tabs.Panel value="gift-card" pt="md">
          <GiftCardPanel />
        </Tabs.Panel>
        <Tabs.Panel value="refund" pt="md">
          <RefundPanel onChanged={refreshMember} />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}
