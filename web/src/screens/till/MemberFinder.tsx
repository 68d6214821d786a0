import { Button, Group, List, Paper, Stack, Text, TextInput, UnstyledButton } from "@mantine/core";
import { IconCamera, IconSearch, IconUserPlus } from "@tabler/icons-react";
import { useMutation } from "@tanstack/react-query";
import { lazy, Suspense, useState } from "react";
import { useTranslation } from "react-i18next";

import { unwrap } from "../../api/client";
import { useApi } from "../../auth/SessionContext";
import { ErrorNote } from "../../layout/ErrorNote";
import { lookupAttempts } from "../../lib/lookup";
import { findMembers, type Member } from "../../members/queries";

const QrScanner = lazy(() => import("./QrScanner"));

/**
 * Find the shopper: type or scan (a keyboard-wedge scanner types the card and presses Enter into
 * the focused field), or read the member app's QR code with the device camera. A phone number
 * that belongs to nobody can be enrolled on the spot.
 */
export function MemberFinder({ onFound }: { onFound: (member: Member) => void }) {
  const { t } = useTranslation();
  const api = useApi();
  const [text, setText] = useState("");
  const [scanning, setScanning] = useState(false);
  const [choices, setChoices] = useState<Member[]>([]);
  const [notFound, setNotFound] = useState<string | null>(null);

  const search = useMutation({
    mutationFn: (value: string) => findMembers(api, value),
    onSuccess: (members, value) => {
      setChoices([]);
      setNotFound(null);
      const [first] = members;
      if (members.length === 1 && first !== undefined) onFound(first);
      else if (members.length > 1) setChoices(members);
      else setNotFound(value);
    },
  });
  const enroll = useMutation({
    mutationFn: (phone: string) => unwrap(api.POST("/v1/members", { body: { phone, channel: "pos" } })),
    onSuccess: (created) => onFound(created),
  });

  const submit = (value: string) => {
    if (lookupAttempts(value).length === 0) {
      setNotFound(value);
      return;
    }
    search.mutate(value);
  };
  const phoneToEnroll =
    notFound === null ? null : (lookupAttempts(notFound).find((a) => a.kind === "phone")?.value ?? null);

  return (
    <Paper withBorder p="md" radius="md" component="section" aria-labelledby="finder-title">
      <form
        onSubmit={(event) => {
          event.preventDefault();
          submit(text);
        }}
      >
        <Stack>
          <Text id="finder-title" fw={700} size="lg">
            {t("till.findTitle")}
          </Text>
          <TextInput
            size="xl"
            label={t("till.findLabel")}
            description={t("till.findHint")}
            value={text}
            onChange={(event) => setText(event.currentTarget.value)}
            autoFocus
            autoComplete="off"
            inputMode="text"
            enterKeyHint="search"
            error={notFound !== null && phoneToEnroll === null ? t("till.notFound") : undefined}
            data-testid="member-lookup"
          />
          <Group grow>
            <Button type="submit" size="xl" leftSection={<IconSearch aria-hidden />} loading={search.isPending}>
              {t("till.find")}
            </Button>
            <Button
              size="xl"
              variant="light"
              leftSection={<IconCamera aria-hidden />}
              onClick={() => setScanning(true)}
            >
              {t("till.scanQr")}
            </Button>
          </Group>
          <ErrorNote error={search.error ?? enroll.error} />
          {phoneToEnroll !== null && (
            <Stack gap="xs">
              <Text>{t("till.phoneNotFound")}</Text>
              <Button
                size="lg"
                variant="outline"
                leftSection={<IconUserPlus aria-hidden />}
                loading={enroll.isPending}
                onClick={() => enroll.mutate(phoneToEnroll)}
              >
                {t("till.enroll", { phone: phoneToEnroll })}
              </Button>
            </Stack>
          )}
          {choices.length > 1 && (
            <List listStyleType="none" spacing="xs" aria-label={t("till.choose")}>
              {choices.map((member) => (
                <List.Item key={member.member_id}>
                  <UnstyledButton onClick={() => onFound(member)} p="sm" w="100%">
                    {member.name ?? t("member.noName")} · {member.phone} · {member.card_number}
                  </UnstyledButton>
                </List.Item>
              ))}
            </List>
          )}
        </Stack>
      </form>
      {scanning && (
        <Suspense fallback={null}>
          <QrScanner
            onClose={() => setScanning(false)}
            onDecoded={(value) => {
              setScanning(false);
              setText(value);
              submit(value);
            }}
          />
        </Suspense>
      )}
    </Paper>
  );
}
