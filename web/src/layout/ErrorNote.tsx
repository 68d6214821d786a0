import { Alert } from "@mantine/core";
import { IconAlertTriangle } from "@tabler/icons-react";
import { useTranslation } from "react-i18next";

import { ApiError } from "../api/errors";

/** What went wrong, in the API's words (its code too, for whoever the shop calls for help). */
export function errorText(error: unknown, fallback: string): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof TypeError) return fallback; // fetch failed: no network
  return error instanceof Error ? error.message : fallback;
}

export function ErrorNote({ error, title }: { error: unknown; title?: string }) {
  const { t } = useTranslation();
  if (error === null || error === undefined) return null;
  const code = error instanceof ApiError ? error.code : null;
  return (
    <Alert color="red" icon={<IconAlertTriangle aria-hidden />} title={title ?? t("common.error")} role="alert">
      {errorText(error, t("common.networkError"))}
      {code !== null && ` (${code})`}
    </Alert>
  );
}
