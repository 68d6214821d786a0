/** The API's error shape, {"error": {"code", "message", "details"}}, as an exception the screens show. */

export interface FieldProblem {
  field: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly problems: FieldProblem[];

  constructor(status: number, code: string, message: string, problems: FieldProblem[] = []) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.problems = problems;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Validation details are a list of {field: "program.tiers.levels.0.threshold", message}. */
export function fieldProblems(details: unknown): FieldProblem[] {
  if (!Array.isArray(details)) return [];
  return details.flatMap((item: unknown) =>
    isRecord(item) && typeof item.field === "string" && typeof item.message === "string"
      ? [{ field: item.field, message: item.message }]
      : [],
  );
}

export function apiErrorFrom(status: number, body: unknown): ApiError {
  const error = isRecord(body) && isRecord(body.error) ? body.error : null;
  if (error === null) return new ApiError(status, status >= 500 ? "server_error" : "http_error", `HTTP ${status}`);
  const code = typeof error.code === "string" ? error.code : "error";
  const message = typeof error.message === "string" ? error.message : `HTTP ${status}`;
  // A rule checked past validation names its one field: {"details": {"field": "email"}}.
  // (A 404's field names what was not found, not an input to correct.)
  const details = error.details;
  const single = status !== 404 && isRecord(details) && typeof details.field === "string" ? [{ field: details.field, message }] : [];
  return new ApiError(status, code, message, [...fieldProblems(error.details), ...single]);
}

/**
 * Field errors for a form whose values sit under ``prefix`` in the request body, keyed by the
 * form's own paths ("tiers.levels.0.threshold"). Errors on the body as a whole go under "".
 */
export function formErrors(problems: FieldProblem[], prefix = ""): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const { field, message } of problems) {
    let path = field === "body" ? "" : field;
    if (prefix !== "" && (path === prefix || path.startsWith(`${prefix}.`))) path = path.slice(prefix.length + 1);
    errors[path] = errors[path] === undefined ? message : `${errors[path]}; ${message}`;
  }
  return errors;
}
