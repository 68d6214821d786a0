import { Alert, Button, NumberInput, Progress, Select, SimpleGrid, Stack, Text, Textarea } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";

import { unwrap } from "../../api/client";
import { useApi } from "../../auth/SessionContext";
import { ErrorNote } from "../../layout/ErrorNote";
import { clientId } from "../../lib/ids";

interface CampaignForm {
  text: string;
  tier: string;
  inactive_days: number | "";
  birthday_month: string;
}

function CampaignProgress({ campaignId }: { campaignId: string }) {
  const { t } = useTranslation();
  const api = useApi();
  const campaign = useQuery({
    queryKey: ["campaign", campaignId],
    queryFn: () => unwrap(api.GET("/v1/campaigns/{campaign_id}", { params: { path: { campaign_id: campaignId } } })),
    // Until it is done, ask again every second: the sending goes on in the background.
    refetchInterval: (query) => (query.state.data?.status === "done" ? false : 1000),
  });
  const data = campaign.data;
  if (data === undefined) return <ErrorNote error={campaign.error} />;
  const done = data.status === "done";
  return (
    <Alert color={done ? "green" : "blue"} title={t(`campaigns.status.${done ? "done" : "running"}`)} data-testid="campaign-progress">
      <Stack gap="xs">
        <Progress value={done ? 100 : 50} animated={!done} striped={!done} aria-label={t("campaigns.progress")} />
        <Text>{t("campaigns.counts", { targeted: data.targeted, queued: data.queued })}</Text>
      </Stack>
    </Alert>
  );
}

/** A message to a segment of members; its progress is followed until every message is queued. */
export function CampaignsTab() {
  const { t, i18n } = useTranslation();
  const api = useApi();
  const [campaignId, setCampaignId] = useState(() => clientId("campaign"));
  const [started, setStarted] = useState<string | null>(null);
  const form = useForm<CampaignForm>({ initialValues: { text: "", tier: "", inactive_days: "", birthday_month: "" } });
  const start = useMutation({
    mutationFn: (values: CampaignForm) =>
      unwrap(
        api.POST("/v1/campaigns", {
          body: {
            campaign_id: campaignId,
            text: values.text,
            segment: {
              tier: values.tier.trim() === "" ? null : values.tier.trim(),
              inactive_days: values.inactive_days === "" ? null : values.inactive_days,
              birthday_month: values.birthday_month === "" ? null : Number(values.birthday_month),
            },
          },
        }),
      ),
    onSuccess: (campaign) => {
      setStarted(campaign.campaign_id);
      setCampaignId(clientId("campaign"));
      form.reset();
    },
  });
  const program = useQuery({ queryKey: ["program"], queryFn: () => unwrap(api.GET("/v1/program")) });
  const tiers = (program.data?.program.tiers?.levels ?? []).map((level) => level.name);
  const months = Array.from({ length: 12 }, (_, index) => ({
    value: String(index + 1),
    label: new Date(2000, index, 1).toLocaleString(i18n.language, { month: "long" }),
  }));
  return (
    <form onSubmit={form.onSubmit((values) => start.mutate(values))} noValidate>
      <Stack>
        <Textarea label={t("campaigns.text")} description={t("campaigns.textHint")} autosize minRows={3} required {...form.getInputProps("text")} />
        <SimpleGrid cols={{ base: 1, sm: 3 }}>
          <Select
            label={t("campaigns.birthdayMonth")}
            data={months}
            clearable
            value={form.values.birthday_month || null}
            onChange={(value) => form.setFieldValue("birthday_month", value ?? "")}
          />
          <NumberInput label={t("campaigns.inactiveDays")} allowDecimal={false} min={1} {...form.getInputProps("inactive_days")} />
          <Select
            label={t("campaigns.tier")}
            data={tiers}
            clearable
            disabled={tiers.length === 0}
            value={form.values.tier || null}
            onChange={(value) => form.setFieldValue("tier", value ?? "")}
          />
        </SimpleGrid>
        <ErrorNote error={start.error} />
        <Button type="submit" size="lg" loading={start.isPending} disabled={form.values.text.trim() === ""}>
          {t("campaigns.start")}
        </Button>
        {started !== null && <CampaignProgress campaignId={started} />}
      </Stack>
    </form>
  );
}
