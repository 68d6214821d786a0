import { Alert, Button, Group, Modal, Paper, Select, Stack, Table, TextInput, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { IconSearch, IconUserPlus } from "@tabler/icons-react";
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router";

import { type Schemas, unwrap } from "../../api/client";
import { ApiError, formErrors } from "../../api/errors";
import { useApi } from "../../auth/SessionContext";
import { ErrorNote } from "../../layout/ErrorNote";
import { formatNumber } from "../../lib/money";
import { findMembers, type Member } from "../../members/queries";
import { ScrollTable } from "../../layout/ScrollTable";
import { MemberList } from "./MemberList";

interface EnrollForm {
  phone: string;
  name: string;
  email: string;
  birthday: string;
  card_number: string;
  language: "ru" | "en";
}

function EnrollDialog({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const { t } = useTranslation();
  const api = useApi();
  const navigate = useNavigate();
  const form = useForm<EnrollForm>({
    initialValues: { phone: "", name: "", email: "", birthday: "", card_number: "", language: "ru" },
  });
  const enroll = useMutation({
    mutationFn: (values: EnrollForm) => {
      const body: Schemas["EnrollRequest"] = { phone: values.phone, language: values.language, channel: "pos" };
      if (values.name.trim() !== "") body.name = values.name.trim();
      if (values.email.trim() !== "") body.email = values.email.trim();
      if (values.birthday !== "") body.birthday = values.birthday;
      if (values.card_number.trim() !== "") body.card_number = values.card_number.trim();
      return unwrap(api.POST("/v1/members", { body }));
    },
    onSuccess: (member) => void navigate(`/members/${member.member_id}`),
    onError: (error) => {
      if (error instanceof ApiError) form.setErrors(formErrors(error.problems));
    },
  });
  return (
    <Modal opened={opened} onClose={onClose} title={t("members.enrollTitle")} size="lg">
      <form onSubmit={form.onSubmit((values) => enroll.mutate(values))} noValidate>
        <Stack>
          <TextInput label={t("members.phone")} required type="tel" {...form.getInputProps("phone")} />
          <TextInput label={t("members.name")} {...form.getInputProps("name")} />
          <TextInput label={t("members.email")} type="email" {...form.getInputProps("email")} />
          <TextInput label={t("members.birthday")} type="date" {...form.getInputProps("birthday")} />
          <TextInput
            label={t("members.physicalCard")}
            description={t("members.physicalCardHint")}
            inputMode="numeric"
            {...form.getInputProps("card_number")}
          />
          <Select
            label={t("members.language")}
            data={[
              { value: "ru", label: "Русский" },
              { value: "en", label: "English" },
            ]}
            allowDeselect={false}
            {...form.getInputProps("language")}
          />
          {enroll.error instanceof ApiError && enroll.error.problems.length === 0 && <ErrorNote error={enroll.error} />}
          <Button type="submit" size="lg" loading={enroll.isPending}>
            {t("members.enroll")}
          </Button>
        </Stack>
      </form>
    </Modal>
  );
}

/** Find a member by phone, card or email; browse the list with filters; enroll new ones. */
export default function MembersScreen() {
  const { t, i18n } = useTranslation();
  const api = useApi();
  const [text, setText] = useState("");
  const [enrolling, setEnrolling] = useState(false);
  const search = useMutation({ mutationFn: (value: string) => findMembers(api, value) });
  const members: Member[] | undefined = search.data;
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>{t("screens.members")}</Title>
        <Button leftSection={<IconUserPlus aria-hidden />} onClick={() => setEnrolling(true)}>
          {t("members.enroll")}
        </Button>
      </Group>
      <Paper withBorder p="md">
        <form
          onSubmit={(event) => {
            event.preventDefault();
            search.mutate(text);
          }}
        >
          <Group align="flex-end" wrap="wrap">
            <TextInput
              label={t("members.searchLabel")}
              description={t("members.searchHint")}
              value={text}
              onChange={(event) => setText(event.currentTarget.value)}
              style={{ flex: "1 1 16rem" }}
              size="lg"
              data-testid="members-search"
            />
            <Button type="submit" size="lg" leftSection={<IconSearch aria-hidden />} loading={search.isPending}>
              {t("members.search")}
            </Button>
          </Group>
        </form>
      </Paper>
      <ErrorNote error={search.error} />
      {members !== undefined && members.length === 0 && <Alert color="gray">{t("members.noneFound")}</Alert>}
      {members !== undefined && members.length > 0 && (
        <ScrollTable minWidth={560} label={t("members.results")}>
          <Table striped highlightOnHover verticalSpacing="sm" aria-label={t("members.results")}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t("members.name")}</Table.Th>
                <Table.Th>{t("members.phone")}</Table.Th>
                <Table.Th>{t("member.card")}</Table.Th>
                <Table.Th>{t("member.tier")}</Table.Th>
                <Table.Th ta="right">{t("member.balance")}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {members.map((member) => (
                <Table.Tr key={member.member_id}>
                  <Table.Td>
                    <Link to={`/members/${member.member_id}`}>{member.name ?? t("member.noName")}</Link>
                  </Table.Td>
                  <Table.Td>{member.phone}</Table.Td>
                  <Table.Td>{member.card_number}</Table.Td>
                  <Table.Td>{member.tier ?? "—"}</Table.Td>
                  <Table.Td ta="right">{formatNumber(member.balance, i18n.language)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </ScrollTable>
      )}
      {members === undefined && <MemberList />}
      {enrolling && <EnrollDialog opened onClose={() => setEnrolling(false)} />}
    </Stack>
  );
}
