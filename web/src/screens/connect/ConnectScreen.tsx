import { Alert, Badge, Button, Checkbox, Container, Group, Paper, PasswordInput, Stack, Text, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { IconKey } from "@tabler/icons-react";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Navigate, useLocation, useNavigate } from "react-router";

import { ApiError } from "../../api/errors";
import { connectWithApiKey } from "../../auth/apiKey";
import { homeScreen } from "../../auth/permissions";
import { useSession } from "../../auth/SessionContext";
import { errorText } from "../../layout/ErrorNote";
import { LanguageSwitch } from "../../layout/Shell";

interface KeyForm {
  key: string;
  tillOnly: boolean;
  remember: boolean;
}

/**
 * Sign-in. Until staff accounts exist the app connects with a merchant API key; when
 * config.json names a staff user pool, the staff sign-in form goes here beside it.
 */
export function ConnectScreen() {
  const { t } = useTranslation();
  const { config, session, signIn, apiWith } = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const [busy, setBusy] = useState(false);
  const form = useForm<KeyForm>({
    initialValues: { key: "", tillOnly: false, remember: true },
    validate: { key: (value) => (value.trim() === "" ? t("connect.keyRequired") : null) },
  });
  if (session !== null) return <Navigate to={`/${homeScreen(session.role)}`} replace />;

  const submit = async (values: KeyForm) => {
    setBusy(true);
    try {
      const next = await connectWithApiKey(values.key, values.tillOnly, apiWith);
      signIn(next, values.remember);
      const from = (location.state as { from?: string } | null)?.from;
      void navigate(from !== undefined && from !== "/" ? from : `/${homeScreen(next.role)}`, { replace: true });
    } catch (error) {
      const refused = error instanceof ApiError && (error.status === 401 || error.status === 403);
      form.setFieldError("key", refused ? t("connect.keyRefused") : errorText(error, t("common.networkError")));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Container size={480} py="xl">
      <Group justify="space-between" mb="lg">
        <Title order={1} size="h2">
          {t("shell.title")}
        </Title>
        <LanguageSwitch />
      </Group>
      <Paper withBorder shadow="sm" p="lg" radius="md">
        <form onSubmit={form.onSubmit(submit)} noValidate>
          <Stack>
            <Group justify="space-between">
              <Title order={2} size="h3">
                {t("connect.title")}
              </Title>
              {config.environment === "local" && <Badge color="yellow">{t("connect.localStack")}</Badge>}
            </Group>
            <Text>{t("connect.keyExplained")}</Text>
            <PasswordInput
              label={t("connect.key")}
              placeholder="lk_…"
              autoComplete="off"
              size="lg"
              leftSection={<IconKey size={20} aria-hidden />}
              data-autofocus
              autoFocus
              {...form.getInputProps("key")}
            />
            <Checkbox
              size="md"
              label={t("connect.tillOnly")}
              description={t("connect.tillOnlyExplained")}
              {...form.getInputProps("tillOnly", { type: "checkbox" })}
            />
            <Checkbox
              size="md"
              label={t("connect.remember")}
              {...form.getInputProps("remember", { type: "checkbox" })}
            />
            <Button type="submit" size="lg" loading={busy} fullWidth>
              {t("connect.submit")}
            </Button>
            {config.environment === "local" && (
              <Alert color="gray" variant="light">
                {t("connect.localHint")}
              </Alert>
            )}
          </Stack>
        </form>
      </Paper>
    </Container>
  );
}
