// The first load's JavaScript, gzipped, must stay within the budget (issue 18: ≤ 300 KB):
// the entry script and every module it preloads, as dist/index.html names them. Screens load
// later, each in its own chunk, and are listed for information.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const BUDGET_KB = Number(process.env.WEB_BUDGET_KB ?? 300);
const dist = resolve(dirname(fileURLToPath(import.meta.url)), "..", "dist");
const html = readFileSync(join(dist, "index.html"), "utf8");
const first = [...html.matchAll(/<(?:script[^>]+src|link[^>]+rel="modulepreload"[^>]+href)="\/?([^"]+\.js)"/g)].map((m) => m[1]);
const gz = (file) => gzipSync(readFileSync(join(dist, file)), { level: 9 }).length / 1024;
const total = first.reduce((sum, file) => sum + gz(file), 0);
const rest = readdirSync(join(dist, "assets"))
  .filter((f) => f.endsWith(".js") && !first.includes(`assets/${f}`))
  .map((f) => [f, gz(`assets/${f}`)]);
console.log(`first load: ${total.toFixed(1)} KB of JavaScript gzipped (budget ${BUDGET_KB} KB) in ${first.length} file(s)`);
console.log(`lazy chunks: ${rest.map(([f, kb]) => `${f.replace(/-[\w-]{8}\.js$/, "")} ${kb.toFixed(1)}`).join(", ")}`);
if (total > BUDGET_KB) {
  console.error(`The first load is over budget by ${(total - BUDGET_KB).toFixed(1)} KB: split a route or drop a dependency.`);
  process.exit(1);
}
