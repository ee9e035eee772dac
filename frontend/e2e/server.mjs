// Starts a real Takt for the end-to-end run: builds the app into a directory of its own (so a
// build of frontend/dist running meanwhile can't pull files from under the run; E2E_SKIP_BUILD=1
// serves frontend/dist as it is, or E2E_WEB_DIST), migrates a fresh database
// (TAKT_E2E_DATABASE_URL, default a new SQLite file in a temp directory), loads the demo, then
// serves the API with the built app at / on E2E_PORT (default 8765).
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const frontend = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const root = resolve(frontend, "..");
const takt = join(root, ".venv", "bin", "takt");
const port = process.env.E2E_PORT ?? "8765";
const scratch = mkdtempSync(join(tmpdir(), "takt-e2e-"));
const databaseUrl = process.env.TAKT_E2E_DATABASE_URL || `sqlite+aiosqlite:///${join(scratch, "takt.db")}`;
const skipBuild = process.env.E2E_SKIP_BUILD === "1";
const webDist = skipBuild ? resolve(process.env.E2E_WEB_DIST ?? join(frontend, "dist")) : join(scratch, "dist");

const env = {
  ...process.env,
  TAKT_DATABASE_URL: databaseUrl,
  TAKT_PORT: port,
  TAKT_HOST: "127.0.0.1",
  TAKT_PUBLIC_URL: `http://127.0.0.1:${port}`,
  TAKT_WEB_DIST: webDist,
  TAKT_ACCESS_LOG: "false",
  TAKT_LOG_LEVEL: "WARNING",
  // The run signs in many times from one address.
  TAKT_LOGIN_MAX_FAILURES: "50",
  TAKT_RATE_LIMIT_PER_MINUTE: "100000",
};

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: "inherit", env, ...options });
  if (result.status !== 0) {
    console.error(`e2e server: \`${command} ${args.join(" ")}\` failed (${result.status ?? result.signal})`);
    process.exit(1);
  }
}

if (!skipBuild) run("npx", ["vite", "build", "--logLevel", "warn", "--outDir", webDist, "--emptyOutDir"], { cwd: frontend });
if (!existsSync(join(webDist, "index.html"))) {
  console.error(`e2e server: no build at ${webDist} (run \`npm run build\`, or leave E2E_SKIP_BUILD unset)`);
  process.exit(1);
}
console.log(`e2e server: database ${databaseUrl.replace(/\/\/[^@/]*@/, "//…@")}`);
run(takt, ["migrate"], { cwd: root });
run(takt, ["demo", "--if-empty"], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });

const server = spawn(takt, ["serve"], { cwd: root, env, stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => server.kill(signal));
server.on("exit", (code, signal) => {
  rmSync(scratch, { recursive: true, force: true });
  process.exit(code ?? (signal ? 1 : 0));
});
