// Friction signals from the WASM build: the same scripted scenarios and expected results as the
// native test (tests/signals_parity.rs), so both builds give the same answers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const bp = createRequire(import.meta.url)("../../pkg");
const scenarios = JSON.parse(readFileSync(new URL("../signals/scenarios.json", import.meta.url), "utf8"));

for (const scenario of scenarios) {
  test(`signals: ${scenario.name}`, () => {
    const found = bp.detectSignals({ events: scenario.events, now: scenario.now, config: scenario.config });
    assert.deepEqual(found, scenario.expected);
  });
}

test("the agent context states the signals of the chatting user only", () => {
  const pingPong = scenarios.find((s) => s.name.startsWith("ping-pong"));
  const other = scenarios.find((s) => s.name.startsWith("rage clicks")).events.map((e) => ({ ...e, user_id: "u2", session_id: "s2" }));
  const context = bp.buildAgentContext({
    userId: "u1",
    now: pingPong.now,
    windowMs: 600000,
    recentEvents: [...pingPong.events, ...other].map((e) => ({ ...e, createdAt: e.occurred_at })),
    summaryRecords: [],
  });
  assert.deepEqual(context.signals.map((s) => s.kind), ["ping_pong"]);
  const text = bp.renderAgentContext(context);
  assert.match(text, /signs of friction/);
  assert.match(text, /went back and forth between \\"\/pricing\\" and \\"\/checkout\\" 3 times in 40 s/);
  assert.doesNotMatch(text, /clicked \\"Pay\\"/);
});

test("bad signal input names the field", () => {
  assert.throws(() => bp.detectSignals({ events: [], config: { rageMinClicks: "four" } }), /detectSignals: input\.config\.rageMinClicks/);
  assert.throws(() => bp.detectSignals({ events: [], now: "yesterday" }), /input\.now/);
});
