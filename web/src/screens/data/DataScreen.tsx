import { Alert, Anchor, Badge, Button, Checkbox, FileInput, Group, Paper, Progress, SegmentedControl, Stack, Table, Text, Title } from "@mantine/core";
import { IconDownload, IconFileImport } from "@tabler/icons-react";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";

import { unwrap } from "../../api/client";
import { canExport } from "../../auth/permissions";
import { useApi, useSession } from "../../auth/SessionContext";
import { ErrorNote } from "../../layout/ErrorNote";
import { ScrollTable } from "../../layout/ScrollTable";
import { formatNumber } from "../../lib/money";
import { type ExportKind, type ImportKind, isFinished, type Job, percentDone, startExport, startImport } from "./jobs";

/** Follows a job until it is done or failed, once a second. */
function useJob(route: "/v1/imports/{job_id}" | "/v1/exports/{job_id}", started: Job | undefined) {
  const api = useApi();
  return useQuery({
    queryKey: [route, started?.job_id],
    enabled: started !== undefined,
    initialData: started,
    queryFn: () => unwrap(api.GET(route, { params: { path: { job_id: started?.job_id ?? "" } } })),
    refetchInterval: (query) => (isFinished(query.state.data) ? false : 1000),
  });
}

function JobProgress({ job, testId }: { job: Job; testId: string }) {
  const { t, i18n } = useTranslation();
  const percent = percentDone(job);
  const count = (n: number) => formatNumber(n, i18n.language);
  return (
    <Stack gap="xs" data-testid={testId} aria-live="polite">
      <Group justify="space-between">
        <Badge color={job.status === "failed" ? "red.9" : job.status === "done" ? "teal.9" : "blue.9"}>{t(`data.status.${job.status}`)}</Badge>
        <Text size="sm">
          {t("data.counts", {
            done: count(job.done),
            failed: count(job.failed),
            total: job.total === null || job.total === undefined ? "…" : count(job.total),
          })}
        </Text>
      </Group>
      <Progress
        value={percent ?? 100}
        animated={!isFinished(job)}
        striped={percent === null}
        size="lg"
        aria-label={t("data.progress")}
        color={job.failed > 0 ? "orange.8" : "teal.8"}
      />
      {job.failure && (
        <Alert color="red" role="alert">
          {job.failure}
        </Alert>
      )}
    </Stack>
  );
}

function RowErrors({ job }: { job: Job }) {
  const { t } = useTranslation();
  if (job.errors === undefined || job.errors.length === 0) return null;
  return (
    <Stack gap="xs">
      <Title order={4} size="h5">
        {t("data.rowErrors")}
      </Title>
      <ScrollTable minWidth={360} label={t("data.rowErrors")}>
        <Table striped aria-label={t("data.rowErrors")} data-testid="import-errors">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t("data.line")}</Table.Th>
              <Table.Th>{t("data.reason")}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {job.errors.map((error) => (
              <Table.Tr key={error.line}>
                <Table.Td>{error.line}</Table.Td>
                <Table.Td>{error.reason}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </ScrollTable>
      {job.error_report_url && (
        <Anchor href={job.error_report_url} download>
          {t("data.errorReport")}
        </Anchor>
      )}
    </Stack>
  );
}

function ImportPanel() {
  const { t } = useTranslation();
  const api = useApi();
  const [kind, setKind] = useState<ImportKind>("members");
  const [welcome, setWelcome] = useState(false);
  const [file, setFile] = useState<File | null>(null);
  const start = useMutation({ mutationFn: (chosen: File) => startImport(api, kind, welcome, chosen) });
  const job = useJob("/v1/imports/{job_id}", start.data);
  const busy = start.isPending || (start.data !== undefined && !isFinished(job.data));
  return (
    <Paper withBorder p="md" radius="md" component="section" aria-labelledby="import-title">
      <Stack>
        <Title order={3} size="h4" id="import-title">
          {t("data.importTitle")}
        </Title>
        <SegmentedControl
          aria-label={t("data.importKind")}
          value={kind}
          onChange={(value) => setKind(value === "purchases" ? "purchases" : "members")}
          data={[
            { value: "members", label: t("data.kind.members") },
            { value: "purchases", label: t("data.kind.purchases") },
          ]}
          disabled={busy}
        />
        <Text size="sm">{t(kind === "members" ? "data.membersColumns" : "data.purchasesColumns")}</Text>
        {kind === "members" && (
          <Checkbox label={t("data.welcome")} checked={welcome} onChange={(e) => setWelcome(e.currentTarget.checked)} disabled={busy} />
        )}
        <FileInput
          label={t("data.file")}
          placeholder={t("data.filePlaceholder")}
          accept=".csv,text/csv"
          value={file}
          onChange={setFile}
          clearable
          clearButtonProps={{ "aria-label": t("data.clearFile") }}
          size="lg"
          leftSection={<IconFileImport size={20} aria-hidden />}
          disabled={busy}
        />
        <Button size="lg" disabled={file === null || busy} loading={start.isPending} onClick={() => file && start.mutate(file)}>
          {t("data.startImport")}
        </Button>
        <ErrorNote error={start.error ?? job.error} />
        {job.data && <JobProgress job={job.data} testId="import-progress" />}
        {job.data && isFinished(job.data) && <RowErrors job={job.data} />}
      </Stack>
    </Paper>
  );
}

function ExportPanel() {
  const { t } = useTranslation();
  const api = useApi();
  const [kind, setKind] = useState<ExportKind>("members");
  const start = useMutation({ mutationFn: () => startExport(api, kind) });
  const job = useJob("/v1/exports/{job_id}", start.data);
  const busy = start.isPending || (start.data !== undefined && !isFinished(job.data));
  return (
    <Paper withBorder p="md" radius="md" component="section" aria-labelledby="export-title">
      <Stack>
        <Title order={3} size="h4" id="export-title">
          {t("data.exportTitle")}
        </Title>
        <SegmentedControl
          aria-label={t("data.exportKind")}
          value={kind}
          onChange={(value) => setKind(value === "transactions" ? "transactions" : "members")}
          data={[
            { value: "members", label: t("data.kind.members") },
            { value: "transactions", label: t("data.kind.transactions") },
          ]}
          disabled={busy}
        />
        <Text size="sm">{t("data.exportExplained")}</Text>
        <Button size="lg" variant="light" disabled={busy} loading={start.isPending} onClick={() => start.mutate()}>
          {t("data.startExport")}
        </Button>
        <ErrorNote error={start.error ?? job.error} />
        {job.data && <JobProgress job={job.data} testId="export-progress" />}
        {job.data?.download_url && (
          <Button component="a" href={job.data.download_url} download size="lg" leftSection={<IconDownload size={20} aria-hidden />} data-testid="export-download">
            {t("data.download")}
          </Button>
        )}
      </Stack>
    </Paper>
  );
}

/** Bring members or purchase history in from a CSV file, and take members or transactions out. */
export default function DataScreen() {
  const { t } = useTranslation();
  const { session } = useSession();
  return (
    <Stack>
      <Title order={2}>{t("screens.data")}</Title>
      <ImportPanel />
      {session !== null && canExport(session.role) && <ExportPanel />}
    </Stack>
  );
}
