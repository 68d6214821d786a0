/** Imports and exports run as jobs on the server; these are the steps the screen takes. */
import type { ApiClient, Schemas } from "../../api/client";
import { unwrap } from "../../api/client";
import { ApiError } from "../../api/errors";
import { clientId } from "../../lib/ids";

export type Job = Schemas["JobView"];
export type ImportKind = Schemas["ImportRequest"]["kind"];
export type ExportKind = Schemas["ExportRequest"]["kind"];

export function isFinished(job: Job | undefined): boolean {
  return job?.status === "done" || job?.status === "failed";
}

/** Rows handled out of the file's rows, 0..100; null while the total is not known yet. */
export function percentDone(job: Job): number | null {
  if (job.status === "done") return 100;
  if (job.total === null || job.total === undefined || job.total === 0) return null;
  return Math.min(100, Math.round(((job.done + job.failed) / job.total) * 100));
}

/**
 * Create the import, PUT the file to its presigned URL (straight to S3: the file never passes
 * through the API), then start it. The job id is made here, so a retry creates nothing twice.
 */
export async function startImport(api: ApiClient, kind: ImportKind, welcome: boolean, file: File): Promise<Job> {
  const job_id = clientId(`import-${kind}`);
  const created = await unwrap(api.POST("/v1/imports", { body: { job_id, kind, ...(kind === "members" ? { welcome } : {}) } }));
  if (!created.upload_url) throw new ApiError(500, "no_upload_url", "the import has no upload URL");
  // The URL is signed for Content-Type text/csv: the upload must say exactly that.
  const upload = await fetch(created.upload_url, { method: "PUT", headers: { "Content-Type": "text/csv" }, body: file });
  if (!upload.ok) throw new ApiError(upload.status, "upload_failed", `upload: HTTP ${upload.status}`);
  return unwrap(api.POST("/v1/imports/{job_id}/start", { params: { path: { job_id } } }));
}

export async function startExport(api: ApiClient, kind: ExportKind): Promise<Job> {
  return unwrap(api.POST("/v1/exports", { body: { job_id: clientId(`export-${kind}`), kind } }));
}
