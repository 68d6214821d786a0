import { Alert, Badge, Button, Group, Modal, MultiSelect, Paper, SegmentedControl, Stack, Switch, Table, Text, TextInput, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { IconPlus, IconSend } from "@tabler/icons-react";
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";

import { type Schemas, unwrap } from "../../api/client";
import { ApiError, formErrors } from "../../api/errors";
import { useApi } from "../../auth/SessionContext";
import { ErrorNote } from "../../layout/ErrorNote";
import { SecretOnce } from "../../layout/SecretOnce";
import { Loading } from "../../layout/Loading";
import { ScrollTable } from "../../layout/ScrollTable";

type Endpoint = Schemas["EndpointView"];
type EventType = NonNullable<Schemas["EndpointRequest"]["event_types"]>[number];
type DeliveryStatus = Schemas["WebhookDeliveryView"]["status"];

const ENDPOINTS = ["webhook-endpoints"];

function when(iso: string | null | undefined, language: string): string {
  return iso ? new Date(iso).toLocaleString(language === "en" ? "en-GB" : "ru-RU", { dateStyle: "short", timeStyle: "medium" }) : "—";
}

function useEventTypes() {
  const api = useApi();
  return useQuery({ queryKey: ["webhook-event-types"], queryFn: () => unwrap(api.GET("/v1/webhook-event-types")) });
}

interface EndpointValues {
  url: string;
  description: string;
  alert_email: string;
  event_types: string[];
  enabled: boolean;
}

function valuesOf(endpoint: Endpoint | null): EndpointValues {
  return {
    url: endpoint?.url ?? "",
    description: endpoint?.description ?? "",
    alert_email: endpoint?.alert_email ?? "",
    event_types: endpoint?.event_types ?? [],
    enabled: endpoint?.enabled ?? true,
  };
}

/** The endpoint form for creating and editing: no event type chosen means every type. */
function EndpointFields({ form, editing }: { form: ReturnType<typeof useForm<EndpointValues>>; editing: boolean }) {
  const { t } = useTranslation();
  const types = useEventTypes();
  return (
    <Stack>
      <TextInput label={t("webhooks.url")} description={t("webhooks.urlHint")} required type="url" {...form.getInputProps("url")} />
      <TextInput label={t("webhooks.description")} {...form.getInputProps("description")} />
      <TextInput label={t("webhooks.alertEmail")} description={t("webhooks.alertEmailHint")} type="email" {...form.getInputProps("alert_email")} />
      <MultiSelect
        label={t("webhooks.eventTypes")}
        description={t("webhooks.eventTypesHint")}
        placeholder={form.values.event_types.length === 0 ? t("webhooks.allTypes") : undefined}
        data={(types.data?.event_types ?? []).map((type) => ({ value: type.name, label: `${type.name} — ${type.description}` }))}
        searchable
        clearable
        {...form.getInputProps("event_types")}
      />
      {editing && <Switch size="lg" label={t("webhooks.enabled")} {...form.getInputProps("enabled", { type: "checkbox" })} />}
    </Stack>
  );
}

function CreateEndpoint({ onClose, onCreated }: { onClose: () => void; onCreated: (id: string) => void }) {
  const { t } = useTranslation();
  const api = useApi();
  const queryClient = useQueryClient();
  const form = useForm<EndpointValues>({ initialValues: valuesOf(null) });
  const create = useMutation({
    mutationFn: (values: EndpointValues) =>
      unwrap(
        api.POST("/v1/webhook-endpoints", {
          body: {
            url: values.url.trim(),
            description: values.description.trim() || null,
            alert_email: values.alert_email.trim() || null,
            event_types: values.event_types.length === 0 ? null : (values.event_types as EventType[]),
          },
        }),
      ),
    onSuccess: (created) => {
      void queryClient.invalidateQueries({ queryKey: ENDPOINTS });
      onCreated(created.endpoint_id);
    },
    onError: (error) => {
      if (error instanceof ApiError) form.setErrors(formErrors(error.problems));
    },
  });
  return (
    <Modal opened onClose={onClose} title={t("webhooks.newTitle")} size="lg">
      {create.data ? (
        <SecretOnce
          secret={create.data.secret}
          title={t("webhooks.secretTitle")}
          explanation={t("webhooks.secretOnce")}
          testId="webhook-secret"
          onClose={onClose}
        />
      ) : (
        <form onSubmit={form.onSubmit((values) => create.mutate(values))} noValidate>
          <Stack>
            <EndpointFields form={form} editing={false} />
            {create.error instanceof ApiError && create.error.problems.length === 0 && <ErrorNote error={create.error} />}
            <Button type="submit" size="lg" loading={create.isPending}>
              {t("webhooks.create")}
            </Button>
          </Stack>
        </form>
      )}
    </Modal>
  );
}

function EditEndpoint({ endpoint }: { endpoint: Endpoint }) {
  const { t } = useTranslation();
  const api = useApi();
  const queryClient = useQueryClient();
  const form = useForm<EndpointValues>({ initialValues: valuesOf(endpoint) });
  const save = useMutation({
    mutationFn: (values: EndpointValues) =>
      unwrap(
        api.PATCH("/v1/webhook-endpoints/{endpoint_id}", {
          params: { path: { endpoint_id: endpoint.endpoint_id } },
          body: {
            url: values.url.trim(),
            description: values.description.trim() || null,
            alert_email: values.alert_email.trim() || null,
            event_types: values.event_types.length === 0 ? null : (values.event_types as EventType[]),
            enabled: values.enabled,
          },
        }),
      ),
    onSuccess: (saved) => {
      form.resetDirty(valuesOf(saved));
      void queryClient.invalidateQueries({ queryKey: ENDPOINTS });
    },
    onError: (error) => {
      if (error instanceof ApiError) form.setErrors(formErrors(error.problems));
    },
  });
  return (
    <form onSubmit={form.onSubmit((values) => save.mutate(values))} noValidate>
      <Stack>
        {endpoint.disabled_reason && (
          <Alert color="red" title={t("webhooks.disabledTitle")}>
            {endpoint.disabled_reason}
          </Alert>
        )}
        <EndpointFields form={form} editing />
        {save.error instanceof ApiError && save.error.problems.length === 0 && <ErrorNote error={save.error} />}
        <Group>
          <Button type="submit" loading={save.isPending} disabled={!form.isDirty()}>
            {t("common.save")}
          </Button>
          {save.isSuccess && !form.isDirty() && (
            <Text size="sm" c="teal.9" role="status">
              {t("webhooks.saved")}
            </Text>
          )}
        </Group>
      </Stack>
    </form>
  );
}

function DeliveryLog({ endpoint }: { endpoint: Endpoint }) {
  const { t, i18n } = useTranslation();
  const api = useApi();
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<DeliveryStatus | "all">("all");
  const key = ["webhook-deliveries", endpoint.endpoint_id, status];
  const log = useInfiniteQuery({
    queryKey: key,
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page: Schemas["WebhookDeliveryPage"]) => page.next_cursor ?? undefined,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/v1/webhook-endpoints/{endpoint_id}/deliveries", {
          params: {
            path: { endpoint_id: endpoint.endpoint_id },
            query: { limit: 25, ...(status === "all" ? {} : { status }), ...(pageParam ? { cursor: pageParam } : {}) },
          },
        }),
      ),
    // Pending deliveries are being retried: keep the log moving until they settle.
    refetchInterval: (query) =>
      query.state.data?.pages.some((page) => page.deliveries.some((d) => d.status === "pending")) ? 2000 : false,
  });
  const ping = useMutation({
    mutationFn: () => unwrap(api.POST("/v1/webhook-endpoints/{endpoint_id}/test", { params: { path: { endpoint_id: endpoint.endpoint_id } } })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ["webhook-deliveries", endpoint.endpoint_id] }),
  });
  const deliveries = log.data?.pages.flatMap((page) => page.deliveries) ?? [];
  return (
    <Stack>
      <Group justify="space-between" wrap="wrap">
        <Title order={4} size="h5">
          {t("webhooks.log")}
        </Title>
        <Button leftSection={<IconSend size={18} aria-hidden />} loading={ping.isPending} onClick={() => ping.mutate()}>
          {t("webhooks.test")}
        </Button>
      </Group>
      <SegmentedControl
        aria-label={t("webhooks.filter")}
        value={status}
        onChange={(value) => setStatus(value === "pending" || value === "delivered" || value === "failed" ? value : "all")}
        data={[
          { value: "all", label: t("webhooks.all") },
          { value: "pending", label: t("webhooks.status.pending") },
          { value: "delivered", label: t("webhooks.status.delivered") },
          { value: "failed", label: t("webhooks.status.failed") },
        ]}
      />
      <ErrorNote error={log.error ?? ping.error} />
      {log.isPending && <Loading />}
      {log.isSuccess && deliveries.length === 0 && <Text c="dimmed">{t("webhooks.noDeliveries")}</Text>}
      {deliveries.length > 0 && (
        <ScrollTable minWidth={640} label={t("webhooks.log")}>
          <Table striped verticalSpacing="xs" aria-label={t("webhooks.log")} data-testid="webhook-log">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t("webhooks.when")}</Table.Th>
                <Table.Th>{t("webhooks.event")}</Table.Th>
                <Table.Th>{t("webhooks.state")}</Table.Th>
                <Table.Th>{t("webhooks.lastAttempt")}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {deliveries.map((delivery) => {
                const last = delivery.attempts.at(-1);
                return (
                  <Table.Tr key={delivery.delivery_id}>
                    <Table.Td>{when(delivery.created_at, i18n.language)}</Table.Td>
                    <Table.Td>
                      <code>{delivery.event_type}</code>
                    </Table.Td>
                    <Table.Td>
                      <Badge color={delivery.status === "delivered" ? "teal.9" : delivery.status === "failed" ? "red.9" : "blue.9"}>
                        {t(`webhooks.status.${delivery.status}`)}
                      </Badge>
                    </Table.Td>
                    <Table.Td>
                      {last
                        ? t("webhooks.attempt", {
                            number: last.number,
                            status: last.status_code ?? last.error ?? "—",
                            ms: last.latency_ms,
                          })
                        : (delivery.failure_reason ?? "—")}
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        </ScrollTable>
      )}
      {log.hasNextPage && (
        <Button variant="default" onClick={() => void log.fetchNextPage()} loading={log.isFetchingNextPage}>
          {t("common.more")}
        </Button>
      )}
    </Stack>
  );
}

function EndpointState({ endpoint }: { endpoint: Endpoint }) {
  const { t } = useTranslation();
  if (!endpoint.enabled) return <Badge color="red.9">{t("webhooks.disabled")}</Badge>;
  if (endpoint.failures_in_a_row > 0) return <Badge color="orange.9">{t("webhooks.failing", { count: endpoint.failures_in_a_row })}</Badge>;
  return <Badge color="teal.9">{t("webhooks.active")}</Badge>;
}

/** Webhook endpoints: subscribe a URL to events, edit or pause it, ping it, read its delivery log. */
export default function WebhooksScreen() {
  const { t, i18n } = useTranslation();
  const api = useApi();
  const [creating, setCreating] = useState(false);
  const [selected, setSelected] = useState<string | null>(null);
  const endpoints = useQuery({ queryKey: ENDPOINTS, queryFn: () => unwrap(api.GET("/v1/webhook-endpoints")) });
  const list = endpoints.data?.endpoints ?? [];
  const chosen = list.find((endpoint) => endpoint.endpoint_id === selected) ?? null;
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>{t("screens.webhooks")}</Title>
        <Button leftSection={<IconPlus aria-hidden />} onClick={() => setCreating(true)}>
          {t("webhooks.new")}
        </Button>
      </Group>
      <Text size="sm">{t("webhooks.explained")}</Text>
      {endpoints.isPending && <Loading />}
      <ErrorNote error={endpoints.error} />
      {endpoints.isSuccess && list.length === 0 && <Text c="dimmed">{t("webhooks.none")}</Text>}
      {list.length > 0 && (
        <ScrollTable minWidth={640} label={t("webhooks.endpoints")}>
          <Table highlightOnHover verticalSpacing="sm" aria-label={t("webhooks.endpoints")}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t("webhooks.url")}</Table.Th>
                <Table.Th>{t("webhooks.eventTypes")}</Table.Th>
                <Table.Th>{t("webhooks.state")}</Table.Th>
                <Table.Th>{t("webhooks.lastSuccess")}</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {list.map((endpoint) => (
                <Table.Tr key={endpoint.endpoint_id} bg={endpoint.endpoint_id === selected ? "var(--mantine-color-blue-light)" : undefined}>
                  <Table.Td style={{ wordBreak: "break-all" }}>
                    {endpoint.url}
                    {endpoint.description && (
                      <Text size="sm" c="dimmed">
                        {endpoint.description}
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td>{endpoint.event_types ? endpoint.event_types.join(", ") : t("webhooks.allTypes")}</Table.Td>
                  <Table.Td>
                    <EndpointState endpoint={endpoint} />
                  </Table.Td>
                  <Table.Td>{when(endpoint.last_success_at, i18n.language)}</Table.Td>
                  <Table.Td>
                    <Button variant="default" onClick={() => setSelected(endpoint.endpoint_id)} aria-label={t("webhooks.openNamed", { url: endpoint.url })}>
                      {t("webhooks.open")}
                    </Button>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </ScrollTable>
      )}
      {chosen && (
        <Paper withBorder p="md" radius="md" component="section" aria-label={chosen.url} data-testid="webhook-endpoint">
          <Stack>
            <EditEndpoint key={`${chosen.endpoint_id}-${chosen.updated_at}`} endpoint={chosen} />
            <DeliveryLog endpoint={chosen} />
          </Stack>
        </Paper>
      )}
      {creating && (
        <CreateEndpoint
          onClose={() => setCreating(false)}
          onCreated={(id) => {
            setSelected(id);
          }}
        />
      )}
    </Stack>
  );
}
