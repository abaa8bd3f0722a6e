#!/usr/bin/env node
// Times the WASM functions of pkg/ against plain-JavaScript transcriptions of the guide's two
// code nodes on the same inputs, in one run, and prints medians and ratios (no pass/fail: the
// figures are for the issue notes and README). Run `npm run build` first.
//
//   node bench/wasm-vs-js.mjs [--runs N]
import { createRequire } from "node:module";
import { execFileSync } from "node:child_process";
import { statSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { bigBody, manyEvents, NOW } from "../tests/js/fixtures.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pkgMain = join(root, "pkg");
const bp = createRequire(import.meta.url)(pkgMain);
const runsArg = process.argv.indexOf("--runs");
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 300;

// --- The guide's StoreEventsData, minus the table call. -------------------------------------
function guideStoreEventsData(body) {
  return body.actions.map((action) => ({
    title: action.title,
    description: action.description,
    canonical_url: action.canonical_url,
    user_id: body.user_id,
    product_id: body.product_id,
    session_id: body.session_id,
  }));
}

// --- The guide's FetchEventsData, minus the two table calls and console output. -------------
// (It hands every user's rows to the agent and takes summary[0] of a string.)
function guideFetchEventsData(summaryRecord, recentEvents) {
  const summary = summaryRecord[0].summary;
  return { recentEvents, summary: summary && summary.length > 0 ? summary[0] : null };
}

// --- The same job the WASM does, written in plain JS: scope, window, order, cap, summary. ---
function plainJsContext({ recentEvents, summaryRecords, userId, now, windowMs = 120000, maxEvents = 50 }) {
  const since = now - windowMs;
  const mine = [];
  for (const e of recentEvents) {
    if (e.user_id !== userId) continue;
    const t = Date.parse(e.createdAt);
    if (!(t >= since)) continue;
    mine.push([t, e]);
  }
  mine.sort((a, b) => a[0] - b[0] || a[1].action_index - b[1].action_index);
  const kept = mine.slice(Math.max(0, mine.length - maxEvents)).map(([, e]) => e);
  let best = null;
  for (const s of summaryRecords) {
    if (s.user_id !== userId || !s.summary || !s.summary.trim()) continue;
    if (!best || Date.parse(s.updatedAt) >= Date.parse(best.updatedAt)) best = s;
  }
  return { recentEvents: kept, summary: best ? best.summary : null, omittedEvents: mine.length - kept.length };
}

function median(fn) {
  for (let i = 0; i < 20; i++) fn(); // warm up the JIT and the allocator
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

function row(label, wasmMs, jsMs, jsLabel) {
  const ratio = jsMs / wasmMs;
  console.log(
    `${label.padEnd(44)} wasm ${wasmMs.toFixed(4).padStart(8)} ms   ${jsLabel.padEnd(18)} ${jsMs.toFixed(4).padStart(8)} ms   ` +
      `wasm is ${ratio >= 1 ? `${ratio.toFixed(2)}× faster` : `${(1 / ratio).toFixed(2)}× slower`}`,
  );
}

const body = bigBody(50);
const events = manyEvents(2000);
const summaries = Array.from({ length: 20 }, (_, i) => ({
  session_id: `session-${i}`,
  user_id: `user-${i}`,
  summary: `User ${i} is comparing diffusion models on the pricing page.`,
  updatedAt: new Date(NOW - i * 1000).toISOString(),
}));
const input = { recentEvents: events, summaryRecords: summaries, userId: "user-3", now: NOW };

// Same answer before timing anything.
const wasmCtx = bp.buildAgentContext(input);
const jsCtx = plainJsContext(input);
const ids = (ctx) => ctx.recentEvents.map((e) => e.id).join();
if (ids(wasmCtx) !== ids(jsCtx) || wasmCtx.recentEvents.length === 0 || wasmCtx.summary !== jsCtx.summary) {
  throw new Error("the plain-JS transcription and the WASM disagree; fix the benchmark first");
}

console.log(`runs per figure: ${RUNS} (median)`);
row("map 50 actions to rows", median(() => bp.mapActionsToRows(body)), median(() => guideStoreEventsData(body)), "guide JS");
const wasmBuild = median(() => bp.buildAgentContext(input));
row("context from 2,000 rows (same job)", wasmBuild, median(() => plainJsContext(input)), "plain JS");
row("context from 2,000 rows (vs guide's leaky node)", wasmBuild, median(() => guideFetchEventsData(summaries, events)), "guide JS");
row(
  "context + prompt text (vs guide + stringify)",
  median(() => bp.renderAgentContext(bp.buildAgentContext(input))),
  median(() => JSON.stringify(guideFetchEventsData(summaries, events))),
  "guide JS",
);
const guidePrompt = JSON.stringify(guideFetchEventsData(summaries, events)).length;
const ourPrompt = bp.renderAgentContext(bp.buildAgentContext(input)).length;
console.log(`prompt size for one user: wasm render ${ourPrompt} chars, guide's agentContext ${guidePrompt} chars (all users)`);

const wasmBytes = statSync(join(root, "pkg", "core_bg.wasm")).size;
const loads = Array.from({ length: 7 }, () =>
  Number(
    execFileSync(process.execPath, [
      "-e",
      `const t=process.hrtime.bigint(); require(${JSON.stringify(pkgMain)}); console.log(Number(process.hrtime.bigint()-t)/1e6)`,
    ]).toString(),
  ),
).sort((a, b) => a - b);
console.log(`.wasm size: ${wasmBytes} bytes (${(wasmBytes / 1024).toFixed(1)} KiB)`);
console.log(`load + compile + instantiate (require in a fresh node, median of 7): ${loads[3].toFixed(2)} ms`);
