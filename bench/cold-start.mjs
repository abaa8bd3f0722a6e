#!/usr/bin/env node
// What a Botpress cold start pays for the integration: the size of its one-file bundle and the
// time a fresh Node takes to load it (read, parse, inflate and compile the embedded .wasm,
// instantiate it). Each run is a new process; prints the median and the spread, no pass/fail.
// Build first: `node scripts/build-pkg.mjs && (cd botpress-integration && node build.mjs)`.
//
//   node bench/cold-start.mjs [--runs N] [bundle]
import { spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import { join, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const runsAt = args.indexOf("--runs");
const runs = runsAt >= 0 ? Number(args.splice(runsAt, 2)[1]) : 15;
const bundle = resolve(args[0] ?? join(root, "botpress-integration", "dist", "index.cjs"));

// The child times its own `require`, so process start-up is not counted.
const child = `const t = process.hrtime.bigint(); require(${JSON.stringify(bundle)});
process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e6));`;
const times = [];
for (let i = 0; i < runs; i++) {
  const out = spawnSync(process.execPath, ["-e", child], { encoding: "utf8" });
  if (out.status !== 0) throw new Error(`loading ${bundle} failed:\n${out.stderr}`);
  times.push(Number(out.stdout));
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
const bytes = statSync(bundle).size;
console.log(`bundle ${bundle}: ${bytes} bytes (${(bytes / 1024).toFixed(1)} KiB)`);
console.log(
  `cold start (require in a fresh node, ${runs} runs): median ${median.toFixed(1)} ms, ` +
    `min ${times[0].toFixed(1)}, max ${times[times.length - 1].toFixed(1)}`,
);
