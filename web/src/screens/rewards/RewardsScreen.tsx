import { Badge, Button, Group, Modal, NumberInput, Stack, Table, Text, Textarea, TextInput, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { IconPlus } from "@tabler/icons-react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";

import { type Schemas, unwrap } from "../../api/client";
import { ApiError, formErrors } from "../../api/errors";
import { useApi } from "../../auth/SessionContext";
import { ErrorNote } from "../../layout/ErrorNote";
import { Loading } from "../../layout/Loading";
import { clientId } from "../../lib/ids";
import { formatNumber } from "../../lib/money";
import { localizeProblem } from "../../lib/validation";
import { ScrollTable } from "../../layout/ScrollTable";

type RewardForm = Omit<Schemas["RewardRequest"], "description"> & { description: string };

function NewReward({ onClose }: { onClose: () => void }) {
  const { t } = useTranslation();
  const api = useApi();
  const queryClient = useQueryClient();
  const form = useForm<RewardForm>({
    initialValues: { reward_id: clientId("reward"), name: "", cost_points: 100, coupon_valid_days: 30, description: "" },
  });
  const create = useMutation({
    mutationFn: ({ description, ...values }: RewardForm) =>
      unwrap(
        api.POST("/v1/rewards", {
          body: { ...values, ...(description.trim() !== "" ? { description: description.trim() } : {}) },
        }),
      ),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ["rewards"] });
      onClose();
    },
    onError: (error) => {
      if (!(error instanceof ApiError)) return;
      const errors = formErrors(error.problems);
      form.setErrors(Object.fromEntries(Object.entries(errors).map(([k, v]) => [k, localizeProblem(v, t)])));
    },
  });
  return (
    <Modal opened onClose={onClose} title={t("rewards.new")} size="lg">
      <form onSubmit={form.onSubmit((values) => create.mutate(values))} noValidate>
        <Stack>
          <TextInput label={t("rewards.name")} required {...form.getInputProps("name")} data-autofocus />
          <NumberInput label={t("rewards.cost")} allowDecimal={false} {...form.getInputProps("cost_points")} />
          <NumberInput label={t("rewards.validDays")} allowDecimal={false} {...form.getInputProps("coupon_valid_days")} />
          <Textarea label={t("rewards.description")} autosize minRows={2} {...form.getInputProps("description")} />
          {create.error instanceof ApiError && create.error.problems.length === 0 && <ErrorNote error={create.error} />}
          <Button type="submit" size="lg" loading={create.isPending}>
            {t("common.save")}
          </Button>
        </Stack>
      </form>
    </Modal>
  );
}

/** The rewards catalog: what members can buy with points (a coupon they show at the till). */
export default function RewardsScreen() {
  const { t, i18n } = useTranslation();
  const api = useApi();
  const [adding, setAdding] = useState(false);
  const rewards = useQuery({ queryKey: ["rewards"], queryFn: () => unwrap(api.GET("/v1/rewards")) });
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>{t("screens.rewards")}</Title>
        <Button leftSection={<IconPlus aria-hidden />} onClick={() => setAdding(true)}>
          {t("rewards.new")}
        </Button>
      </Group>
      {rewards.isPending && <Loading />}
      <ErrorNote error={rewards.error} />
      {rewards.data?.rewards.length === 0 && <Text>{t("rewards.none")}</Text>}
      {rewards.data !== undefined && rewards.data.rewards.length > 0 && (
        <ScrollTable minWidth={560} label={t("screens.rewards")}>
          <Table striped verticalSpacing="sm" aria-label={t("screens.rewards")}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t("rewards.name")}</Table.Th>
                <Table.Th ta="right">{t("rewards.cost")}</Table.Th>
                <Table.Th ta="right">{t("rewards.validDays")}</Table.Th>
                <Table.Th>{t("rewards.state")}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rewards.data.rewards.map((reward) => (
                <Table.Tr key={reward.reward_id}>
                  <Table.Td>
                    <Text fw={600}>{reward.name}</Text>
                    {reward.description && <Text size="sm">{reward.description}</Text>}
                  </Table.Td>
                  <Table.Td ta="right">{formatNumber(reward.cost_points, i18n.language)}</Table.Td>
                  <Table.Td ta="right">{reward.coupon_valid_days}</Table.Td>
                  <Table.Td>
                    <Badge color={reward.active ? "green" : "gray"}>
                      {reward.active ? t("rewards.active") : t("rewards.inactive")}
                    </Badge>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </ScrollTable>
      )}
      {adding && <NewReward onClose={() => setAdding(false)} />}
    </Stack>
  );
}
