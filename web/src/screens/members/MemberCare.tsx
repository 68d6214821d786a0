/** A manager's corrections on a member's page: edit contacts, adjust points, block or unblock. */
import { Alert, Button, Group, Modal, NumberInput, Stack, Textarea, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { IconEdit, IconLock, IconLockOpen, IconPlusMinus } from "@tabler/icons-react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";

import { type Schemas, unwrap } from "../../api/client";
import { ApiError, formErrors } from "../../api/errors";
import { useApi } from "../../auth/SessionContext";
import { ErrorNote } from "../../layout/ErrorNote";
import { clientId } from "../../lib/ids";
import { formatNumber } from "../../lib/money";
import { memberKey } from "../../members/queries";

export type MemberDetail = Schemas["MemberDetail"];

/** A 409 about a phone or an email belongs next to that field, like a validation error. */
const CONFLICT_FIELDS: Record<string, string> = { phone_in_use: "phone", email_in_use: "email" };

/** The API's field errors for a form, or null when the error is not about a field. */
export function fieldErrorsOf(error: unknown): Record<string, string> | null {
  if (!(error instanceof ApiError)) return null;
  const conflict = CONFLICT_FIELDS[error.code];
  if (conflict !== undefined) return { [conflict]: error.message };
  return error.problems.length > 0 ? formErrors(error.problems) : null;
}

/** Keeps the page in step with a change's answer (the API returns the member's page). */
function useSaveMember(memberId: string) {
  const queryClient = useQueryClient();
  return (detail: MemberDetail) => {
    queryClient.setQueryData(memberKey(memberId), detail);
    void queryClient.invalidateQueries({ queryKey: ["member", memberId] });
  };
}

interface EditValues {
  name: string;
  phone: string;
  email: string;
  birthday: string;
}

function EditMember({ member, onClose }: { member: MemberDetail; onClose: () => void }) {
  const { t } = useTranslation();
  const api = useApi();
  const save = useSaveMember(member.member_id);
  const form = useForm<EditValues>({
    initialValues: { name: member.name ?? "", phone: member.phone, email: member.email ?? "", birthday: member.birthday ?? "" },
  });
  const edit = useMutation({
    mutationFn: (values: EditValues) => {
      // Only what changed is sent; an emptied name, email or birthday is cleared (null).
      const body: Schemas["MemberEdit"] = {};
      if (form.isDirty("name")) body.name = values.name.trim() || null;
      if (form.isDirty("phone")) body.phone = values.phone.trim();
      if (form.isDirty("email")) body.email = values.email.trim() || null;
      if (form.isDirty("birthday")) body.birthday = values.birthday || null;
      return unwrap(api.PATCH("/v1/members/{member_id}", { params: { path: { member_id: member.member_id } }, body }));
    },
    onSuccess: (detail) => {
      save(detail);
      onClose();
    },
    onError: (error) => form.setErrors(fieldErrorsOf(error) ?? {}),
  });
  return (
    <Modal opened onClose={onClose} title={t("care.editTitle")} size="lg">
      <form onSubmit={form.onSubmit((values) => edit.mutate(values))} noValidate>
        <Stack>
          <TextInput label={t("members.name")} {...form.getInputProps("name")} />
          <TextInput label={t("members.phone")} type="tel" required {...form.getInputProps("phone")} />
          <TextInput label={t("members.email")} type="email" {...form.getInputProps("email")} />
          <TextInput label={t("members.birthday")} type="date" {...form.getInputProps("birthday")} />
          {fieldErrorsOf(edit.error) === null && <ErrorNote error={edit.error} />}
          <Button type="submit" size="lg" loading={edit.isPending} disabled={!form.isDirty()}>
            {t("common.save")}
          </Button>
        </Stack>
      </form>
    </Modal>
  );
}

interface AdjustValues {
  points: number | string;
  reason: string;
}

/** Points added or taken by hand, with a reason; the id is kept, so a retry adds them once. */
function AdjustPoints({ member, onClose }: { member: MemberDetail; onClose: () => void }) {
  const { t, i18n } = useTranslation();
  const api = useApi();
  const queryClient = useQueryClient();
  const [adjustmentId] = useState(() => clientId("adjust"));
  const form = useForm<AdjustValues>({
    initialValues: { points: "", reason: "" },
    validate: {
      points: (value) => (typeof value === "number" && Number.isInteger(value) && value !== 0 ? null : t("care.pointsRequired")),
      reason: (value) => (value.trim() === "" ? t("care.reasonRequired") : null),
    },
  });
  const adjust = useMutation({
    mutationFn: (values: AdjustValues) =>
      unwrap(
        api.POST("/v1/members/{member_id}/adjustments", {
          params: { path: { member_id: member.member_id } },
          body: { adjustment_id: adjustmentId, points: Number(values.points), reason: values.reason.trim() },
        }),
      ),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ["member", member.member_id] }),
    onError: (error) => form.setErrors(fieldErrorsOf(error) ?? {}),
  });
  return (
    <Modal opened onClose={onClose} title={t("care.adjustTitle")} size="md">
      <form onSubmit={form.onSubmit((values) => adjust.mutate(values))} noValidate>
        <Stack>
          <NumberInput
            label={t("care.points")}
            description={t("care.pointsHint")}
            allowDecimal={false}
            size="lg"
            disabled={adjust.isSuccess}
            {...form.getInputProps("points")}
          />
          <Textarea label={t("care.reason")} required autosize minRows={2} maxLength={500} disabled={adjust.isSuccess} {...form.getInputProps("reason")} />
          {fieldErrorsOf(adjust.error) === null && <ErrorNote error={adjust.error} />}
          {adjust.data ? (
            <Alert color="green" role="status">
              {t("care.adjusted", {
                points: formatNumber(adjust.data.points, i18n.language),
                balance: formatNumber(adjust.data.balance, i18n.language),
              })}
            </Alert>
          ) : (
            <Button type="submit" size="lg" loading={adjust.isPending}>
              {t("care.adjust")}
            </Button>
          )}
        </Stack>
      </form>
    </Modal>
  );
}

function BlockMember({ member, onClose }: { member: MemberDetail; onClose: () => void }) {
  const { t } = useTranslation();
  const api = useApi();
  const save = useSaveMember(member.member_id);
  const [reason, setReason] = useState("");
  const block = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/v1/members/{member_id}/block", {
          params: { path: { member_id: member.member_id } },
          body: { reason: reason.trim() },
        }),
      ),
    onSuccess: (detail) => {
      save(detail);
      onClose();
    },
  });
  return (
    <Modal opened onClose={onClose} title={t("care.blockTitle")} size="md">
      <Stack>
        <Alert color="orange">{t("care.blockExplained")}</Alert>
        <Textarea label={t("care.reason")} required autosize minRows={2} maxLength={500} value={reason} onChange={(e) => setReason(e.currentTarget.value)} />
        <ErrorNote error={block.error} />
        <Button color="red" size="lg" disabled={reason.trim() === ""} loading={block.isPending} onClick={() => block.mutate()}>
          {t("care.block")}
        </Button>
      </Stack>
    </Modal>
  );
}

export function CareActions({ member }: { member: MemberDetail }) {
  const { t } = useTranslation();
  const api = useApi();
  const save = useSaveMember(member.member_id);
  const [open, setOpen] = useState<"edit" | "adjust" | "block" | null>(null);
  const unblock = useMutation({
    mutationFn: () => unwrap(api.POST("/v1/members/{member_id}/unblock", { params: { path: { member_id: member.member_id } } })),
    onSuccess: save,
  });
  const close = () => setOpen(null);
  return (
    <Group gap="xs">
      <Button variant="light" leftSection={<IconEdit size={18} aria-hidden />} onClick={() => setOpen("edit")}>
        {t("care.edit")}
      </Button>
      <Button variant="light" leftSection={<IconPlusMinus size={18} aria-hidden />} onClick={() => setOpen("adjust")}>
        {t("care.adjustTitle")}
      </Button>
      {member.status === "blocked" ? (
        <Button variant="light" color="green" leftSection={<IconLockOpen size={18} aria-hidden />} loading={unblock.isPending} onClick={() => unblock.mutate()}>
          {t("care.unblock")}
        </Button>
      ) : (
        <Button variant="light" color="red" leftSection={<IconLock size={18} aria-hidden />} onClick={() => setOpen("block")}>
          {t("care.block")}
        </Button>
      )}
      <ErrorNote error={unblock.error} />
      {open === "edit" && <EditMember member={member} onClose={close} />}
      {open === "adjust" && <AdjustPoints member={member} onClose={close} />}
      {open === "block" && <BlockMember member={member} onClose={close} />}
    </Group>
  );
}
