/** The typed API client: openapi-fetch over the generated schema, with the session's auth. */
import createClient from "openapi-fetch";
import { session } from "../auth";
import { ApiError } from "./problem";
import type { components, paths } from "./schema";

export const api = createClient<paths>({
  baseUrl: typeof location !== "undefined" ? location.origin : "http://localhost",
  fetch: (request: Request) => session.authFetch(request),
  headers: { Accept: "application/json" },
});

export type Schemas = components["schemas"];

/** The data of a successful call, or the call's problem thrown as an ApiError. */
export async function ok<D>(call: Promise<{ data?: D; error?: unknown; response: Response }>): Promise<D> {
  const { data, error, response } = await call;
  if (!response.ok) throw ApiError.from(response, error);
  return data as D;
}

/** The strong ETag of a version, as Takt sends it (for If-Match). */
export function etagOf(version: number): string {
  return `"v${version}"`;
}
