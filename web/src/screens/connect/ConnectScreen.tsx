import {
  Alert,
  Badge,
  Button,
  Checkbox,
  Container,
  Group,
  Paper,
  PasswordInput,
  Stack,
  Tabs,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { useForm } from "@mantine/form";
import { IconAt, IconKey } from "@tabler/icons-react";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Navigate, useLocation, useNavigate } from "react-router";

import { ApiError } from "../../api/errors";
import { connectWithApiKey } from "../../auth/apiKey";
import { homeScreen } from "../../auth/permissions";
import type { Session } from "../../auth/session";
import { useSession } from "../../auth/SessionContext";
import { setFirstPassword, signInStaff } from "../../auth/staff";
import { errorText } from "../../layout/ErrorNote";
import { LanguageSwitch } from "../../layout/Shell";

interface KeyForm {
  key: string;
  tillOnly: boolean;
  remember: boolean;
}

interface StaffForm {
  email: string;
  password: string;
  newPassword: string;
}

/** Sign-in refusals in the person's language; anything else as the API said it. */
function staffErrorText(error: unknown, t: (key: "connect.staff.refused" | "connect.staff.weakPassword" | "common.networkError") => string): string {
  if (error instanceof ApiError && error.status === 401) return t("connect.staff.refused");
  if (error instanceof ApiError && (error.code === "weak_password" || error.code === "validation_error")) {
    return t("connect.staff.weakPassword");
  }
  return errorText(error, t("common.networkError"));
}

/** Opens the screen the person came for, or their role's home. */
function useEnter(): (next: Session, remember: boolean) => void {
  const { signIn } = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  return (next, remember) => {
    signIn(next, remember);
    const from = (location.state as { from?: string } | null)?.from;
    void navigate(from !== undefined && from !== "/" ? from : `/${homeScreen(next.role)}`, { replace: true });
  };
}

/** A person of the shop: e-mail and password; the first time, a password of their own. */
function StaffSignIn() {
  const { t } = useTranslation();
  const { config } = useSession();
  const enter = useEnter();
  const [busy, setBusy] = useState(false);
  const [challenge, setChallenge] = useState<{ email: string; challenge: string } | null>(null);
  const required = (value: string) => (value.trim() === "" ? t("connect.staff.required") : null);
  const form = useForm<StaffForm>({
    initialValues: { email: "", password: "", newPassword: "" },
    validate: {
      email: required,
      password: (value) => (challenge === null ? required(value) : null),
      newPassword: (value) => (challenge !== null ? required(value) : null),
    },
  });

  const submit = async (values: StaffForm) => {
    setBusy(true);
    try {
      if (challenge !== null) {
        enter(await setFirstPassword(config.apiBaseUrl, challenge.email, challenge.challenge, values.newPassword), true);
        return;
      }
      const result = await signInStaff(config.apiBaseUrl, values.email, values.password);
      if (result.kind === "new-password") setChallenge({ email: result.email, challenge: result.challenge });
      else enter(result.session, true);
    } catch (error) {
      const field = challenge !== null ? "newPassword" : "password";
      form.setFieldError(field, staffErrorText(error, t));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={form.onSubmit(submit)} noValidate>
      <Stack>
        {challenge === null ? (
          <>
            <Text>{t("connect.staff.explained")}</Text>
            <TextInput
              label={t("connect.staff.email")}
              type="email"
              autoComplete="username"
              size="lg"
              leftSection={<IconAt size={20} aria-hidden />}
              {...form.getInputProps("email")}
            />
            <PasswordInput
              label={t("connect.staff.password")}
              autoComplete="current-password"
              size="lg"
              {...form.getInputProps("password")}
            />
          </>
        ) : (
          <>
            <Title order={3} size="h4">
              {t("connect.staff.newPasswordTitle")}
            </Title>
            <Text>{t("connect.staff.newPasswordExplained")}</Text>
            <PasswordInput
              label={t("connect.staff.newPassword")}
              autoComplete="new-password"
              size="lg"
              autoFocus
              {...form.getInputProps("newPassword")}
            />
          </>
        )}
        <Button type="submit" size="lg" loading={busy} fullWidth>
          {challenge === null ? t("connect.submit") : t("connect.staff.newPasswordSubmit")}
        </Button>
        {config.environment === "local" && (
          <Alert color="gray" variant="light">
            {t("connect.staff.localHint")}
          </Alert>
        )}
      </Stack>
    </form>
  );
}

/**
 * Sign-in: a person of the shop with their staff account (the default), or a device with a
 * merchant API key (a till tablet bound to its till's key, or a machine's integration).
 */
export function ConnectScreen() {
  const { t } = useTranslation();
  const { config, session } = useSession();
  if (session !== null) return <Navigate to={`/${homeScreen(session.role)}`} replace />;
  return (
    <Container size={480} py="xl">
      <Group justify="space-between" mb="lg">
        <Title order={1} size="h2">
          {t("shell.title")}
        </Title>
        <LanguageSwitch />
      </Group>
      <Paper withBorder shadow="sm" p="lg" radius="md">
        <Group justify="space-between" mb="md">
          <Title order={2} size="h3">
            {t("connect.title")}
          </Title>
          {config.environment === "local" && <Badge color="yellow">{t("connect.localStack")}</Badge>}
        </Group>
        <Tabs defaultValue="staff">
          <Tabs.List grow mb="md">
            <Tabs.Tab value="staff">{t("connect.staff.tab")}</Tabs.Tab>
            <Tabs.Tab value="key">{t("connect.staff.keyTab")}</Tabs.Tab>
          </Tabs.List>
          <Tabs.Panel value="staff">
            <StaffSignIn />
          </Tabs.Panel>
          <Tabs.Panel value="key">
            <KeySignIn />
          </Tabs.Panel>
        </Tabs>
      </Paper>
    </Container>
  );
}

/** A device: the shop's API key. */
function KeySignIn() {
  const { t } = useTranslation();
  const { config, apiWith } = useSession();
  const enter = useEnter();
  const [busy, setBusy] = useState(false);
  const form = useForm<KeyForm>({
    initialValues: { key: "", tillOnly: false, remember: true },
    validate: { key: (value) => (value.trim() === "" ? t("connect.keyRequired") : null) },
  });

  const submit = async (values: KeyForm) => {
    setBusy(true);
    try {
      enter(await connectWithApiKey(values.key, values.tillOnly, apiWith), values.remember);
    } catch (error) {
      const refused = error instanceof ApiError && (error.status === 401 || error.status === 403);
      form.setFieldError("key", refused ? t("connect.keyRefused") : errorText(error, t("common.networkError")));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={form.onSubmit(submit)} noValidate>
      <Stack>
        <Text>{t("connect.keyExplained")}</Text>
        <PasswordInput
          label={t("connect.key")}
          placeholder="lk_…"
          autoComplete="off"
          size="lg"
          leftSection={<IconKey size={20} aria-hidden />}
          {...form.getInputProps("key")}
        />
        <Checkbox
          size="md"
          label={t("connect.tillOnly")}
          description={t("connect.tillOnlyExplained")}
          {...form.getInputProps("tillOnly", { type: "checkbox" })}
        />
        <Checkbox size="md" label={t("connect.remember")} {...form.getInputProps("remember", { type: "checkbox" })} />
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
  );
}
