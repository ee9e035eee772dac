/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// In development the app runs on Vite's server and /api goes to a running Takt
// (TAKT_PORT, default 8000), so the app and the API share an origin as in production.
const takt = `http://127.0.0.1:${process.env.TAKT_PORT ?? "8000"}`;

export default defineConfig({
  plugins: [react()],
  server: {
    port: Number(process.env.WEB_PORT ?? 5173),
    proxy: { "/api": { target: takt, changeOrigin: false } },
  },
  preview: {
    port: Number(process.env.WEB_PORT ?? 4173),
    proxy: { "/api": { target: takt, changeOrigin: false } },
  },
  build: {
    target: "es2022",
    sourcemap: true,
    // The timings warning is noise on a busy CI machine.
    rolldownOptions: { checks: { bundlerTimings: false } },
    chunkSizeWarningLimit: 400, // KB minified; the budget (gzipped) is checked by scripts/check-budget.mjs
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
