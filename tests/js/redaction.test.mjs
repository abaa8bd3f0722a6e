// The redaction corpus through the built package, at each place personal data could leave on
// the Botpress side: rows mapped from a pushed body, the decoded webhook body, and the prompt
// text rendered for the agent (rows stored before redaction existed are covered there too).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

const require = createRequire(import.meta.url);
const bp = require("../../pkg");
const corpus = JSON.parse(readFileSync(new URL("../redaction/corpus.json", import.meta.url), "utf8"));
const NOW = Date.parse("2026-11-24T12:00:00Z");

const texts = [...corpus.personal.map((p) => p.text), ...corpus.ordinary];
const body = {
  session_id: "s",
  user_id: "u",
  product_id: "p",
  batch_id: "corpus",
  email: "owner@example.com",
  actions: texts.map((text, index) => ({ title: "Typed", description: text, canonical_url: "https://yourapp.com/x", index })),
};

function leaks(output) {
  return corpus.personal.filter((p) => output.includes(p.secret)).map((p) => `${p.kind}: ${p.secret}`);
}

test("every personal item is redacted in rows, webhook bodies and prompts; ordinary text is not", () => {
  const rows = bp.mapActionsToRows(body);
  const parsed = bp.parseWebhookBody(JSON.stringify(body));
  // Rows stored without redaction (e.g. before an upgrade): the prompt still redacts.
  const unredacted = bp.mapActionsToRows(body, { redact: false });
  const stored = unredacted.map((row, i) => ({ ...row, createdAt: new Date(NOW - 60_000 + i).toISOString() }));
  const context = bp.buildAgentContext({ userId: "u", now: NOW, recentEvents: stored, windowMs: 120_000, maxEvents: 500 });
  const prompt = bp.renderAgentContext(context, { maxChars: 1_000_000 });

  for (const [where, output] of [["rows", JSON.stringify(rows)], ["webhook body", JSON.stringify(parsed)], ["prompt", prompt]]) {
    assert.deepEqual(leaks(output), [], `${where}: personal data left`);
  }
  assert.equal(parsed.batch.email, undefined, "the e-mail field was kept");
  const descriptions = rows.map((r) => r.description);
  for (const [i, text] of corpus.ordinary.entries()) {
    assert.equal(descriptions[corpus.personal.length + i], text, "ordinary text altered");
  }
  assert.ok(leaks(JSON.stringify(unredacted)).length > 190, "redact: false keeps the text as it is");
  console.log(`redaction through pkg/: ${corpus.personal.length} personal items redacted, ${corpus.ordinary.length} ordinary strings unchanged`);
});
