import { Stack, Tabs, Title } from "@mantine/core";
import { useTranslation } from "react-i18next";

import { CampaignsTab } from "./CampaignsTab";
import { SettingsTab } from "./SettingsTab";
import { TemplatesTab } from "./TemplatesTab";

export default function NotificationsScreen() {
  const { t } = useTranslation();
  return (
    <Stack>
      <Title order={2}>{t("screens.notifications")}</Title>
      <Tabs defaultValue="templates" keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="templates">{t("notifications.templates")}</Tabs.Tab>
          <Tabs.Tab value="settings">{t("notifications.settings")}</Tabs.Tab>
          <Tabs.Tab value="campaigns">{t("notifications.campaigns")}</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="templates" pt="md">
          <TemplatesTab />
        </Tabs.Panel>
        <Tabs.Panel value="settings" pt="md">
          <SettingsTab />
        </Tabs.Panel>
        <Tabs.Panel value="campaigns" pt="md">
          <CampaignsTab />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}
