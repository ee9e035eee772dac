import { MutationCache, QueryClient } from "@tanstack/react-query";
import { ApiError } from "../api/problem";
import { toastError } from "../components/toasts";

declare module "@tanstack/react-query" {
  interface Register {
    mutationMeta: {
      /** The mutation shows its own error (a form, a card); don't toast it. */
      handlesError?: boolean;
    };
  }
}

function retry(failures: number, error: unknown): boolean {
  // A 4xx won't change by asking again (a 429 will, but Takt says when with Retry-After).
  if (error instanceof ApiError && error.status < 500) return false;
  return failures < 2;
}

export const queryClient = new QueryClient({
  defaultOptions: {
    queries: { staleTime: 10_000, retry, refetchOnWindowFocus: true },
    mutations: { retry: false },
  },
  mutationCache: new MutationCache({
    onError: (error, _vars, _ctx, mutation) => {
      if (!mutation.meta?.handlesError) toastError(error);
    },
  }),
});
