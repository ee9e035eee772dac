import { QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { RouterProvider } from "react-router";
import { queryClient } from "./app/queryClient";
import { router } from "./app/router";
import "./app/theme.css";
import { session } from "./auth";
import { Toaster } from "./components/Toaster";

// Signed out (by hand, or the session ended): nothing of the last user stays in memory.
session.subscribe((state) => {
  if (state.status === "signed-out") queryClient.clear();
});

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
      <Toaster />
    </QueryClientProvider>
  </StrictMode>,
);
