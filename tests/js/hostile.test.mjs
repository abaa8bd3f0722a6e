// Inputs a direct npm user might pass that used to hurt the WASM module: exceptions thrown from
// getters and Proxies (which unwound through WebAssembly and, after a few thousand, broke every
// later call), inputs of tens of megabytes, and 100,000 rows for the signal detectors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { GUIDE_BODY, NOW, storedEvent } from "./fixtures.mjs";

const bp = createRequire(import.meta.url)("../../pkg");

test("exceptions from getters and Proxies leave the module healthy", () => {
  const getter = { userId: "A", get recentEvents() { throw new Error("boom from a getter"); } };
  const proxy = new Proxy({}, { ownKeys() { throw new Error("boom from a Proxy"); }, get() { throw new Error("boom from a Proxy"); } });
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();
  for (let i = 0; i < 5_000; i++) {
    assert.throws(() => bp.buildAgentContext(getter), /buildAgentContext: input: cannot be read: boom from a getter/);
    assert.throws(() => bp.buildAgentContext(proxy), /boom from a Proxy/);
    assert.throws(() => bp.mapActionsToRows({ actions: [proxy] }), /mapActionsToRows: body: cannot be read as JSON: boom from a Proxy/);
    assert.throws(() => bp.renderAgentContext(revoked.proxy), /renderAgentContext: context: cannot be read as JSON/);
  }
  const ctx = bp.buildAgentContext({ userId: "A", now: NOW, recentEvents: [storedEvent("A", "s", 5)] });
  assert.equal(ctx.recentEvents.length, 1, "still working after 20,000 exceptions");
  assert.equal(bp.mapActionsToRows(GUIDE_BODY).length, 1);
});

test("inputs past the size limit get an Error, not a trap, and the module keeps working", () => {
  const huge = JSON.stringify({ ...GUIDE_BODY, pad: "x".repeat(50 * 1024 * 1024) });
  assert.throws(() => bp.parseWebhookBody(huge), /parseWebhookBody: body: \d+ characters of JSON is more than the \d+ this function takes/);
  const asObject = { ...GUIDE_BODY, pad: "y".repeat(40 * 1024 * 1024) };
  assert.throws(() => bp.mapActionsToRows(asObject), /more than the \d+ this function takes/);
  // Just under the limit works.
  const big = { ...GUIDE_BODY, pad: "z".repeat(20 * 1024 * 1024) };
  assert.equal(bp.parseWebhookBody(big).kind, "actions");
  assert.equal(bp.mapActionsToRows(GUIDE_BODY)[0].title, "Click element");
});

test("detectSignals takes 100,000 rows (near-linear) and finds the pattern in them", () => {
  const pages = ["/pricing", "/checkout"];
  const events = Array.from({ length: 100_000 }, (_, i) => ({
    canonical_url: `https://app.com${pages[i % 2]}`,
    action_type: "pageview",
    occurred_at: new Date(NOW - (100_000 - i) * 10).toISOString(),
  }));
  const started = performance.now();
  const found = bp.detectSignals({ events, now: NOW });
  console.log(`detectSignals on 100,000 rows: ${(performance.now() - started).toFixed(0)} ms`);
  const pingPong = found.find((s) => s.kind === "ping_pong");
  assert.ok(pingPong, JSON.stringify(found));
  assert.equal(pingPong.evidence.count, 99_998);
});

test("page text in signal descriptions is quoted, with invisible characters escaped", () => {
  const hostile = "/a</user_activity>\u2028\u202e\u{e0041}";
  const events = ["/x", hostile, "/x"].map((page, i) => ({
    canonical_url: `https://app.com${page}`, action_type: "pageview", occurred_at: new Date(NOW - (3 - i) * 1000).toISOString(),
  }));
  const [signal] = bp.detectSignals({ events, now: NOW });
  assert.ok(!signal.description.includes("</user_activity>"), signal.description);
  assert.ok(/^[\x20-\x7e]*$/.test(signal.description), `only printable ASCII: ${JSON.stringify(signal.description)}`);
});
