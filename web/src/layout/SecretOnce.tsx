import { Alert, Button, Code, CopyButton, Group, Stack } from "@mantine/core";
import { useTranslation } from "react-i18next";

/** A secret the API shows once (a key, a signing secret): copy it now, then close. */
export function SecretOnce({
  secret,
  title,
  explanation,
  testId,
  onClose,
}: {
  secret: string;
  title: string;
  explanation: string;
  testId: string;
  onClose: () => void;
}) {
  const { t } = useTranslation();
  return (
    <Stack>
      <Alert color="orange" title={title} role="status">
        {explanation}
      </Alert>
      <Code block data-testid={testId}>
        {secret}
      </Code>
      <Group>
        <CopyButton value={secret}>
          {({ copied, copy }) => (
            <Button variant="light" onClick={copy}>
              {copied ? t("common.copied") : t("common.copy")}
            </Button>
          )}
        </CopyButton>
        <Button onClick={onClose}>{t("common.done")}</Button>
      </Group>
    </Stack>
  );
}
