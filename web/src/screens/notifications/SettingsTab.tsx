import { Button, Chip, Group, NumberInput, SimpleGrid, Stack, Table, Text, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";

import { type Schemas, unwrap } from "../../api/client";
import { ApiError, formErrors } from "../../api/errors";
import { useApi } from "../../auth/SessionContext";
import { ErrorNote } from "../../layout/ErrorNote";
import { Loading } from "../../layout/Loading";
import { localizeProblem } from "../../lib/validation";
import { ScrollTable } from "../../layout/ScrollTable";

type Settings = Schemas["NotificationSettings"];
type Channel = Schemas["Channel"];
const CHANNELS: Channel[] = ["push", "sms", "email"];

/** Which channels each event uses (in order of preference), quiet hours, the marketing cap. */
export function SettingsTab() {
  const api = useApi();
  const settings = useQuery({ queryKey: ["notification-settings"], queryFn: () => unwrap(api.GET("/v1/notification-settings")) });
  if (settings.data === undefined) return settings.error ? <ErrorNote error={settings.error} /> : <Loading />;
  return <SettingsForm initial={settings.data.settings as Required<Settings>} />;
}

function SettingsForm({ initial }: { initial: Required<Settings> }) {
  const { t } = useTranslation();
  const api = useApi();
  const queryClient = useQueryClient();
  const form = useForm<Required<Settings>>({ mode: "controlled", initialValues: initial });
  const save = useMutation({
    mutationFn: (values: Settings) => unwrap(api.PUT("/v1/notification-settings", { body: { settings: values } })),
    onSuccess: (saved) => {
      queryClient.setQueryData(["notification-settings"], saved);
      notifications.show({ color: "green", message: t("notifications.settingsSaved") });
    },
    onError: (error) => {
      if (!(error instanceof ApiError)) return;
      const errors = formErrors(error.problems);
      form.setErrors(Object.fromEntries(Object.entries(errors).map(([k, v]) => [k, localizeProblem(v, t)])));
    },
  });
  const channels = form.values.channels;
  return (
    <form onSubmit={form.onSubmit((values) => save.mutate(values))} noValidate>
      <Stack>
        <SimpleGrid cols={{ base: 1, sm: 2, md: 4 }}>
          <TextInput label={t("notifications.quietStart")} type="time" {...form.getInputProps("quiet_start")} />
          <TextInput label={t("notifications.quietEnd")} type="time" {...form.getInputProps("quiet_end")} />
          <NumberInput label={t("notifications.marketingCap")} allowDecimal={false} {...form.getInputProps("daily_marketing_cap")} />
          <TextInput label={t("notifications.smsSender")} {...form.getInputProps("sms_sender")} />
        </SimpleGrid>
        <Text size="sm">{t("notifications.channelsHint")}</Text>
        <ScrollTable minWidth={480} label={t("notifications.channelsTable")}>
          <Table aria-label={t("notifications.channelsTable")}>
            <Table.Tbody>
              {Object.entries(channels).map(([kind, chosen]) => (
                <Table.Tr key={kind}>
                  <Table.Td>{t(`notificationKind.${kind as Schemas["NotificationKind"]}`)}</Table.Td>
                  <Table.Td>
                    <Chip.Group
                      multiple
                      value={chosen}
                      onChange={(value) =>
                        form.setFieldValue(
                          `channels.${kind}`,
                          CHANNELS.filter((c) => value.includes(c)).sort((a, b) => value.indexOf(a) - value.indexOf(b)),
                        )
                      }
                    >
                      <Group gap="xs">
                        {CHANNELS.map((channel) => (
                          <Chip key={channel} value={channel} size="md">
                            {t(`channels.${channel}`)}
                          </Chip>
                        ))}
                      </Group>
                    </Chip.Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </ScrollTable>
        {!(save.error instanceof ApiError && save.error.problems.length > 0) && <ErrorNote error={save.error} />}
        <Group justify="flex-end">
          <Button type="submit" size="lg" loading={save.isPending}>
            {t("common.save")}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
