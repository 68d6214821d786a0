import {
  Badge,
  Button,
  Code,
  Group,
  Modal,
  Paper,
  Select,
  Stack,
  Table,
  Tabs,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { useForm } from "@mantine/form";
import { IconPlus } from "@tabler/icons-react";
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";

import { type Schemas, unwrap } from "../../api/client";
import { ApiError, formErrors } from "../../api/errors";
import { useApi } from "../../auth/SessionContext";
import { ErrorNote } from "../../layout/ErrorNote";
import { Loading } from "../../layout/Loading";
import { ScrollTable } from "../../layout/ScrollTable";
import { SecretOnce } from "../../layout/SecretOnce";

type Scope = Schemas["CreateKeyRequest"]["scope"];
type StaffRole = Schemas["InviteStaffRequest"]["role"];

const KEYS = ["keys"];
const STAFF = ["staff"];

function when(iso: string | null | undefined, language: string): string {
  return iso
    ? new Date(iso).toLocaleString(language === "en" ? "en-GB" : "ru-RU", { dateStyle: "short", timeStyle: "short" })
    : "—";
}

function KeySecret({ secret, onClose }: { secret: string; onClose: () => void }) {
  const { t } = useTranslation();
  return (
    <SecretOnce
      secret={secret}
      title={t("access.secretTitle")}
      explanation={t("access.secretOnce")}
      testId="key-secret"
      onClose={onClose}
    />
  );
}

function CreateKey({ onClose }: { onClose: () => void }) {
  const { t } = useTranslation();
  const api = useApi();
  const queryClient = useQueryClient();
  const form = useForm<{ name: string; scope: Scope }>({ initialValues: { name: "", scope: "till" } });
  const create = useMutation({
    mutationFn: (values: { name: string; scope: Scope }) =>
      unwrap(api.POST("/v1/keys", { body: { name: values.name.trim(), scope: values.scope } })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: KEYS }),
    onError: (error) => {
      if (error instanceof ApiError) form.setErrors(formErrors(error.problems));
    },
  });
  return (
    <Modal opened onClose={onClose} title={t("access.newKey")}>
      {create.data ? (
        <KeySecret secret={create.data.api_key} onClose={onClose} />
      ) : (
        <form onSubmit={form.onSubmit((values) => create.mutate(values))} noValidate>
          <Stack>
            <TextInput label={t("access.keyName")} placeholder="Касса 1, Тверская" required {...form.getInputProps("name")} />
            <Select
              label={t("access.scope")}
              description={t("access.scopeHint")}
              allowDeselect={false}
              data={(["till", "integration", "full"] as const).map((scope) => ({
                value: scope,
                label: t(`access.scopes.${scope}`),
              }))}
              {...form.getInputProps("scope")}
            />
            <ErrorNote error={create.error} />
            <Button type="submit" size="md" loading={create.isPending}>
              {t("access.create")}
            </Button>
          </Stack>
        </form>
      )}
    </Modal>
  );
}

function KeysPanel() {
  const { t, i18n } = useTranslation();
  const api = useApi();
  const queryClient = useQueryClient();
  const [creating, setCreating] = useState(false);
  const [rotated, setRotated] = useState<string | null>(null);
  const keys = useQuery({ queryKey: KEYS, queryFn: () => unwrap(api.GET("/v1/keys")) });
  const refresh = () => void queryClient.invalidateQueries({ queryKey: KEYS });
  const revoke = useMutation({
    mutationFn: (keyId: string) => unwrap(api.POST("/v1/keys/{key_id}/revoke", { params: { path: { key_id: keyId } } })),
    onSuccess: refresh,
  });
  const rotate = useMutation({
    mutationFn: (keyId: string) =>
      unwrap(api.POST("/v1/keys/{key_id}/rotate", { params: { path: { key_id: keyId } }, body: { grace_hours: 24 } })),
    onSuccess: (issued) => {
      setRotated(issued.api_key);
      refresh();
    },
  });
  return (
    <Stack>
      <Group justify="space-between">
        <Text>{t("access.keysExplained")}</Text>
        <Button leftSection={<IconPlus size={18} aria-hidden />} onClick={() => setCreating(true)}>
          {t("access.newKey")}
        </Button>
      </Group>
      {keys.isPending && <Loading />}
      <ErrorNote error={keys.error ?? revoke.error ?? rotate.error} />
      {keys.data && (
        <ScrollTable minWidth={760} label={t("access.keys")}>
          <Table striped highlightOnHover>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t("access.keyName")}</Table.Th>
                <Table.Th>{t("access.scope")}</Table.Th>
                <Table.Th>{t("access.secret")}</Table.Th>
                <Table.Th>{t("access.lastUsed")}</Table.Th>
                <Table.Th>{t("access.status")}</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {keys.data.keys.map((key) => (
                <Table.Tr key={key.key_id} data-testid={`key-${key.key_id}`}>
                  <Table.Td>{key.name}</Table.Td>
                  <Table.Td>{t(`access.scopes.${key.scope}`)}</Table.Td>
                  <Table.Td>
                    <Code>{key.hint}</Code>
                  </Table.Td>
                  <Table.Td>{when(key.last_used_at, i18n.language)}</Table.Td>
                  <Table.Td>
                    <Badge color={key.status === "active" ? "teal.9" : "gray.8"} variant="filled">
                      {t(`access.keyStatus.${key.status}`)}
                    </Badge>
                  </Table.Td>
                  <Table.Td>
                    {key.status === "active" && (
                      <Group gap="xs" wrap="nowrap">
                        <Button variant="default" size="xs" onClick={() => rotate.mutate(key.key_id)}>
                          {t("access.rotate")}
                        </Button>
                        <Button color="red.9" size="xs" onClick={() => revoke.mutate(key.key_id)}>
                          {t("access.revoke")}
                        </Button>
                      </Group>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </ScrollTable>
      )}
      {creating && <CreateKey onClose={() => setCreating(false)} />}
      {rotated !== null && (
        <Modal opened onClose={() => setRotated(null)} title={t("access.rotated")}>
          <KeySecret secret={rotated} onClose={() => setRotated(null)} />
        </Modal>
      )}
    </Stack>
  );
}

function InviteStaff({ onClose }: { onClose: () => void }) {
  const { t } = useTranslation();
  const api = useApi();
  const queryClient = useQueryClient();
  const form = useForm<{ email: string; name: string; role: StaffRole }>({
    initialValues: { email: "", name: "", role: "cashier" },
  });
  const invite = useMutation({
    mutationFn: (values: { email: string; name: string; role: StaffRole }) =>
      unwrap(
        api.POST("/v1/staff", {
          body: { email: values.email.trim(), name: values.name.trim() || null, role: values.role },
        }),
      ),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: STAFF });
      onClose();
    },
    onError: (error) => {
      if (error instanceof ApiError) form.setErrors(formErrors(error.problems));
    },
  });
  return (
    <Modal opened onClose={onClose} title={t("access.invite")}>
      <form onSubmit={form.onSubmit((values) => invite.mutate(values))} noValidate>
        <Stack>
          <Text size="sm">{t("access.inviteExplained")}</Text>
          <TextInput label="E-mail" type="email" required {...form.getInputProps("email")} />
          <TextInput label={t("access.personName")} {...form.getInputProps("name")} />
          <Select
            label={t("access.role")}
            allowDeselect={false}
            data={(["cashier", "manager", "owner"] as const).map((role) => ({ value: role, label: t(`roles.${role}`) }))}
            {...form.getInputProps("role")}
          />
          <ErrorNote error={invite.error} />
          <Button type="submit" size="md" loading={invite.isPending}>
            {t("access.sendInvitation")}
          </Button>
        </Stack>
      </form>
    </Modal>
  );
}

function StaffPanel() {
  const { t, i18n } = useTranslation();
  const api = useApi();
  const queryClient = useQueryClient();
  const [inviting, setInviting] = useState(false);
  const staff = useQuery({ queryKey: STAFF, queryFn: () => unwrap(api.GET("/v1/staff")) });
  const refresh = () => void queryClient.invalidateQueries({ queryKey: STAFF });
  const changeRole = useMutation({
    mutationFn: ({ staffId, role }: { staffId: string; role: StaffRole }) =>
      unwrap(api.PUT("/v1/staff/{staff_id}/role", { params: { path: { staff_id: staffId } }, body: { role } })),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: (staffId: string) =>
      unwrap(api.DELETE("/v1/staff/{staff_id}", { params: { path: { staff_id: staffId } } })),
    onSuccess: refresh,
  });
  return (
    <Stack>
      <Group justify="space-between">
        <Text>{t("access.staffExplained")}</Text>
        <Button leftSection={<IconPlus size={18} aria-hidden />} onClick={() => setInviting(true)}>
          {t("access.invite")}
        </Button>
      </Group>
      {staff.isPending && <Loading />}
      <ErrorNote error={staff.error ?? changeRole.error ?? remove.error} />
      {staff.data && (
        <ScrollTable minWidth={760} label={t("access.staff")}>
          <Table striped highlightOnHover>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>E-mail</Table.Th>
                <Table.Th>{t("access.personName")}</Table.Th>
                <Table.Th>{t("access.role")}</Table.Th>
                <Table.Th>{t("access.status")}</Table.Th>
                <Table.Th>{t("access.invitedAt")}</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {staff.data.staff.map((person) => (
                <Table.Tr key={person.staff_id}>
                  <Table.Td>{person.email}</Table.Td>
                  <Table.Td>{person.name ?? "—"}</Table.Td>
                  <Table.Td>
                    {person.status === "removed" ? (
                      t(`roles.${person.role}`)
                    ) : (
                      <Select
                        aria-label={`${t("access.role")}: ${person.email}`}
                        size="xs"
                        allowDeselect={false}
                        value={person.role}
                        data={(["cashier", "manager", "owner"] as const).map((role) => ({
                          value: role,
                          label: t(`roles.${role}`),
                        }))}
                        onChange={(role) => {
                          if (role) changeRole.mutate({ staffId: person.staff_id, role: role });
                        }}
                      />
                    )}
                  </Table.Td>
                  <Table.Td>{t(`access.staffStatus.${person.status}`)}</Table.Td>
                  <Table.Td>{when(person.invited_at, i18n.language)}</Table.Td>
                  <Table.Td>
                    {person.status !== "removed" && (
                      <Button color="red.9" size="xs" onClick={() => remove.mutate(person.staff_id)}>
                        {t("access.remove")}
                      </Button>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </ScrollTable>
      )}
      {inviting && <InviteStaff onClose={() => setInviting(false)} />}
    </Stack>
  );
}

function AuditPanel() {
  const { t, i18n } = useTranslation();
  const api = useApi();
  const log = useInfiniteQuery({
    queryKey: ["audit"],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => unwrap(api.GET("/v1/audit", { params: { query: { limit: 50, cursor: pageParam } } })),
    getNextPageParam: (page) => page.next_cursor ?? undefined,
  });
  const entries = log.data?.pages.flatMap((page) => page.entries) ?? [];
  return (
    <Stack>
      <Text>{t("access.auditExplained")}</Text>
      {log.isPending && <Loading />}
      <ErrorNote error={log.error} />
      <ScrollTable minWidth={760} label={t("access.audit")}>
        <Table striped data-testid="audit-log">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t("access.at")}</Table.Th>
              <Table.Th>{t("access.actor")}</Table.Th>
              <Table.Th>{t("access.action")}</Table.Th>
              <Table.Th>{t("access.status")}</Table.Th>
              <Table.Th>{t("access.from")}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {entries.map((entry: Schemas["AuditEntryView"]) => (
              <Table.Tr key={entry.entry_id}>
                <Table.Td>{when(entry.at, i18n.language)}</Table.Td>
                <Table.Td>
                  {entry.actor.kind === "key" ? t("access.actorKey") : t("access.actorStaff")} {entry.actor.id} (
                  {entry.actor.access})
                </Table.Td>
                <Table.Td>
                  <Code>{entry.route}</Code>
                </Table.Td>
                <Table.Td>{entry.status}</Table.Td>
                <Table.Td>{entry.ip ?? "—"}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </ScrollTable>
      {log.hasNextPage && (
        <Button variant="default" onClick={() => void log.fetchNextPage()} loading={log.isFetchingNextPage}>
          {t("access.more")}
        </Button>
      )}
    </Stack>
  );
}

/** The owner's screen: API keys (per till or system), the people of the shop, and the audit log. */
export default function AccessScreen() {
  const { t } = useTranslation();
  return (
    <Stack>
      <Title order={2}>{t("screens.access")}</Title>
      <Paper withBorder p="md" radius="md">
        <Tabs defaultValue="keys" keepMounted={false}>
          <Tabs.List mb="md">
            <Tabs.Tab value="keys">{t("access.keys")}</Tabs.Tab>
            <Tabs.Tab value="staff">{t("access.staff")}</Tabs.Tab>
            <Tabs.Tab value="audit">{t("access.audit")}</Tabs.Tab>
          </Tabs.List>
          <Tabs.Panel value="keys">
            <KeysPanel />
          </Tabs.Panel>
          <Tabs.Panel value="staff">
            <StaffPanel />
          </Tabs.Panel>
          <Tabs.Panel value="audit">
            <AuditPanel />
          </Tabs.Panel>
        </Tabs>
      </Paper>
    </Stack>
  );
}
