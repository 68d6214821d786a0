import { describe, expect, it } from "vitest";

import { isFinished, type Job, percentDone } from "./jobs";

function job(overrides: Partial<Job>): Job {
  return { job_id: "j", kind: "import_members", status: "running", done: 0, failed: 0, created_at: "2026-11-30T12:00:00Z", errors: [], ...overrides };
}

describe("import and export progress", () => {
  it("counts refused rows as handled, against the file's rows", () => {
    expect(percentDone(job({ done: 30, failed: 10, total: 80 }))).toBe(50);
  });

  it("is unknown until the job has read the file, and whole once done", () => {
    expect(percentDone(job({ status: "queued", total: null }))).toBeNull();
    expect(percentDone(job({ status: "done", done: 0, total: 0 }))).toBe(100);
  });

  it("stops following a job once it is done or failed", () => {
    expect(isFinished(job({ status: "running" }))).toBe(false);
    expect(isFinished(job({ status: "failed" }))).toBe(true);
    expect(isFinished(undefined)).toBe(false);
  });
});
