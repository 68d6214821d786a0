import { Badge, Button, Grid, Group, Paper, SegmentedControl, Select, Stack, Text, Textarea, TextInput } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";

import { type Schemas, unwrap } from "../../api/client";
import { ApiError } from "../../api/errors";
import { useApi } from "../../auth/SessionContext";
import { ErrorNote } from "../../layout/ErrorNote";
import { Loading } from "../../layout/Loading";

type Template = Schemas["TemplateView"];
type Kind = Schemas["NotificationKind"];
type Channel = Schemas["Channel"];

const keyOf = (template: Pick<Template, "kind" | "channel" | "language">) =>
  `${template.kind}/${template.channel}/${template.language}`;

function Editor({ template }: { template: Template }) {
  const { t } = useTranslation();
  const api = useApi();
  const queryClient = useQueryClient();
  const [body, setBody] = useState(template.body);
  const [subject, setSubject] = useState(template.subject ?? "");
  const [draft] = useDebouncedValue({ body, subject }, 300);
  const request: Schemas["TemplateBody"] = {
    kind: template.kind,
    channel: template.channel,
    language: template.language === "en" ? "en" : "ru",
    body: draft.body,
    ...(template.channel === "email" ? { subject: draft.subject } : {}),
  };
  // The live preview is the API's own rendering with sample values: it also catches unknown
  // placeholders and over-long SMS before anything is saved.
  const preview = useQuery({
    queryKey: ["template-preview", request],
    enabled: draft.body.trim() !== "",
    retry: false,
    queryFn: () => unwrap(api.POST("/v1/notification-templates/preview", { body: request })),
  });
  const save = useMutation({
    mutationFn: () =>
      unwrap(
        api.PUT("/v1/notification-templates", {
          body: { templates: [{ ...request, body, ...(template.channel === "email" ? { subject } : {}) }] },
        }),
      ),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ["templates"] });
      notifications.show({ color: "green", message: t("notifications.templateSaved") });
    },
  });
  const problem = (error: unknown) =>
    error instanceof ApiError ? (error.problems.map((p) => p.message).join("; ") || error.message) : null;
  const previewProblem = problem(preview.error);
  return (
    <Grid>
      <Grid.Col span={{ base: 12, md: 6 }}>
        <Stack>
          {template.channel === "email" && (
            <TextInput label={t("notifications.subject")} value={subject} onChange={(e) => setSubject(e.currentTarget.value)} />
          )}
          <Textarea
            label={t("notifications.body")}
            description={t("notifications.bodyHint")}
            autosize
            minRows={4}
            value={body}
            onChange={(event) => setBody(event.currentTarget.value)}
            error={problem(save.error) ?? previewProblem}
            data-testid="template-body"
          />
          <Group>
            <Button onClick={() => save.mutate()} loading={save.isPending} disabled={previewProblem !== null}>
              {t("common.save")}
            </Button>
            <Button variant="default" onClick={() => setBody(template.body)} disabled={body === template.body}>
              {t("program.discard")}
            </Button>
          </Group>
          {!(save.error instanceof ApiError) && <ErrorNote error={save.error} />}
        </Stack>
      </Grid.Col>
      <Grid.Col span={{ base: 12, md: 6 }}>
        <Paper withBorder p="md" radius="md" bg="gray.0" aria-live="polite" aria-label={t("notifications.preview")}>
          <Group justify="space-between" mb="xs">
            <Text fw={700}>{t("notifications.preview")}</Text>
            {preview.data?.sms_segments !== undefined && preview.data.sms_segments !== null && (
              <Badge variant="light">{t("notifications.segments", { count: preview.data.sms_segments })}</Badge>
            )}
          </Group>
          {preview.data?.subject && <Text fw={600}>{preview.data.subject}</Text>}
          <Text style={{ whiteSpace: "pre-wrap" }} data-testid="template-preview">
            {preview.data?.body ?? "…"}
          </Text>
        </Paper>
      </Grid.Col>
    </Grid>
  );
}

/** Per-merchant wording of every notification, with the API's live preview. */
export function TemplatesTab() {
  const { t } = useTranslation();
  const api = useApi();
  const templates = useQuery({ queryKey: ["templates"], queryFn: () => unwrap(api.GET("/v1/notification-templates")) });
  const [language, setLanguage] = useState("ru");
  const [kind, setKind] = useState<Kind>("points_earned");
  const [channel, setChannel] = useState<Channel>("sms");
  if (templates.isPending) return <Loading />;
  const all = templates.data?.templates ?? [];
  const kinds = [...new Set(all.map((template) => template.kind))];
  const channels = all.filter((x) => x.kind === kind && x.language === language).map((x) => x.channel);
  const selected = all.find((x) => keyOf(x) === keyOf({ kind, channel, language }));
  return (
    <Stack>
      <ErrorNote error={templates.error} />
      <Group align="flex-end" wrap="wrap">
        <Select
          label={t("notifications.kind")}
          allowDeselect={false}
          value={kind}
          onChange={(value) => value !== null && setKind(value)}
          data={kinds.map((value) => ({ value, label: t(`notificationKind.${value}`) }))}
          style={{ flex: "1 1 14rem" }}
        />
        <SegmentedControl
          aria-label={t("notifications.channel")}
          value={channels.includes(channel) ? channel : (channels[0] ?? "sms")}
          onChange={(value) => setChannel(value)}
          data={channels.map((value) => ({ value, label: t(`channels.${value}`) }))}
        />
        <SegmentedControl
          aria-label={t("notifications.language")}
          value={language}
          onChange={setLanguage}
          data={[
            { value: "ru", label: "RU" },
            { value: "en", label: "EN" },
          ]}
        />
      </Group>
      {selected !== undefined && (
        <>
          {selected.custom ? <Badge color="blue">{t("notifications.custom")}</Badge> : <Badge color="gray">{t("notifications.default")}</Badge>}
          <Editor key={keyOf(selected)} template={selected} />
        </>
      )}
    </Stack>
  );
}
