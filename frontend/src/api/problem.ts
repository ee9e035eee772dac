/** RFC 9457 problem details as Takt sends them, and the error the app throws for them. */

export interface FieldError {
  pointer: string;
  message: string;
}

export interface ProblemDetails {
  type?: string;
  title: string;
  status: number;
  detail?: string;
  code?: string;
  request_id?: string;
  errors?: FieldError[];
}

export class ApiError extends Error {
  readonly status: number;
  readonly title: string;
  readonly detail: string | undefined;
  readonly code: string | undefined;
  readonly requestId: string | undefined;
  readonly errors: FieldError[];

  constructor(problem: ProblemDetails) {
    super(problem.detail ? `${problem.title}: ${problem.detail}` : problem.title);
    this.name = "ApiError";
    this.status = problem.status;
    this.title = problem.title;
    this.detail = problem.detail;
    this.code = problem.code;
    this.requestId = problem.request_id;
    this.errors = problem.errors ?? [];
  }

  /** From a failed response and its parsed body (problem+json, or anything else). */
  static from(response: Response, body: unknown): ApiError {
    if (isProblem(body)) return new ApiError({ ...body, status: body.status ?? response.status });
    return new ApiError({
      status: response.status,
      title: response.statusText || `HTTP ${response.status}`,
      detail: typeof body === "string" && body.length < 300 ? body : undefined,
      request_id: response.headers.get("X-Request-ID") ?? undefined,
    });
  }
}

function isProblem(body: unknown): body is ProblemDetails {
  return typeof body === "object" && body !== null && typeof (body as { title?: unknown }).title === "string";
}

/** Reads a failed response's body as a problem (when it is JSON) and makes the error. */
export async function errorOf(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => "");
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return ApiError.from(response, body);
}

/** What a person should read for any error: the problem's title and detail, or the network. */
export function describeError(error: unknown): { title: string; detail?: string } {
  if (error instanceof ApiError) {
    const fields = error.errors.map((e) => `${e.pointer || "request"}: ${e.message}`).join("; ");
    return { title: error.title, detail: [error.detail, fields].filter(Boolean).join(" — ") || undefined };
  }
  if (error instanceof TypeError) {
    return { title: "Can't reach Takt", detail: "Check your connection; the app retries by itself." };
  }
  if (error instanceof Error) return { title: "Something went wrong", detail: error.message };
  return { title: "Something went wrong" };
}
