import { AppShell, Badge, Burger, Button, Group, NavLink, ScrollArea, SegmentedControl, Text, Title } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import {
  IconCash,
  IconChartBar,
  IconFileImport,
  IconGift,
  IconLogout,
  IconMessage,
  IconSettings,
  IconTicket,
  IconUsers,
  IconLock,
  IconWebhook,
} from "@tabler/icons-react";
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { Link, Outlet, useLocation } from "react-router";

import { canOpen, SCREENS, type Screen } from "../auth/permissions";
import { useSession } from "../auth/SessionContext";
import { LANGUAGES } from "../i18n";

const ICONS: Record<Screen, ReactNode> = {
  overview: <IconChartBar size={22} aria-hidden />,
  till: <IconCash size={22} aria-hidden />,
  members: <IconUsers size={22} aria-hidden />,
  program: <IconSettings size={22} aria-hidden />,
  rewards: <IconTicket size={22} aria-hidden />,
  notifications: <IconMessage size={22} aria-hidden />,
  "gift-cards": <IconGift size={22} aria-hidden />,
  data: <IconFileImport size={22} aria-hidden />,
  webhooks: <IconWebhook size={22} aria-hidden />,
  access: <IconLock size={22} aria-hidden />,
};

export function LanguageSwitch() {
  const { t, i18n } = useTranslation();
  return (
    <SegmentedControl
      size="sm"
      aria-label={t("shell.language")}
      value={i18n.language}
      onChange={(value) => void i18n.changeLanguage(value)}
      data={LANGUAGES.map((language) => ({ value: language, label: language.toUpperCase() }))}
    />
  );
}

export function Shell() {
  const { t } = useTranslation();
  const { session, signOut } = useSession();
  const [opened, { toggle, close }] = useDisclosure();
  const location = useLocation();
  if (session === null) return null;
  const screens = SCREENS.filter((screen) => canOpen(session.role, screen));
  return (
    <AppShell
      header={{ height: 64 }}
      navbar={{ width: 240, breakpoint: "sm", collapsed: { mobile: !opened } }}
      padding="md"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="md" aria-label={t("shell.menu")} />
            <Title order={1} size="h3">
              {t("shell.title")}
            </Title>
          </Group>
          <Group gap="sm" wrap="nowrap">
            <Badge size="lg" variant="light" visibleFrom="xs" tt="none">
              {t(`roles.${session.role}`)} · {session.label}
            </Badge>
            <LanguageSwitch />
            <Button
              variant="subtle"
              onClick={signOut}
              leftSection={<IconLogout size={20} aria-hidden />}
              aria-label={t("shell.signOut")}
              px="xs"
            >
              <Text span visibleFrom="md" inherit>
                {t("shell.signOut")}
              </Text>
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label={t("shell.navigation")}>
        <ScrollArea>
          {screens.map((screen) => (
            <NavLink
              key={screen}
              component={Link}
              to={`/${screen}`}
              label={t(`screens.${screen}`)}
              leftSection={ICONS[screen]}
              active={location.pathname.startsWith(`/${screen}`)}
              onClick={close}
              py="md"
              styles={{ label: { fontSize: "var(--mantine-font-size-md)" } }}
            />
          ))}
        </ScrollArea>
      </AppShell.Navbar>
      <AppShell.Main>
        <Outlet />
      </AppShell.Main>
    </AppShell>
  );
}
