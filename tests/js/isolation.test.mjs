// Isolation through the built package (issue 19): a blank id is no identity and reads nothing;
// an over-long id is shortened the same way the streamer shortens it when writing rows.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { GUIDE_BODY, NOW, storedEvent } from "./fixtures.mjs";

const bp = createRequire(import.meta.url)("../../pkg");
const MATCH_NOTHING = { id: { $lt: 0 } };

test("a blank or whitespace id scopes nothing and queries nothing", () => {
  for (const blank of ["", " ", "\t\n ", "\u3000"]) {
    for (const opts of [{ userId: blank }, { sessionId: blank }, { userId: blank, sessionId: blank }]) {
      for (const layout of ["sessions", "events"]) {
        const q = bp.contextQueries({ ...opts, layout });
        assert.equal(q.scoped, false, JSON.stringify(opts));
        assert.deepEqual(q.reads, []);
        assert.deepEqual(q.sessions.filter, MATCH_NOTHING);
        assert.deepEqual(q.events.filter, MATCH_NOTHING);
      }
    }
  }
});

test("an unidentified chat sees nobody's actions", () => {
  const anonymous = [storedEvent("", "s", 5), storedEvent(null, "s", 6), storedEvent(" ", "", 7)];
  const sessionRows = [{ session_id: "", user_id: "", summary: "someone's summary", actions: [] }];
  for (const userId of ["", "  "]) {
    const ctx = bp.buildAgentContext({ userId, now: NOW, recentEvents: anonymous, sessionRows });
    assert.equal(ctx.recentEvents.length, 0, `userId ${JSON.stringify(userId)}`);
    assert.equal(ctx.summary, null);
    assert.equal(ctx.userId, null);
  }
  // A real id still reads its own rows.
  const mine = bp.buildAgentContext({ userId: "A", now: NOW, recentEvents: [storedEvent("A", "s", 5), ...anonymous] });
  assert.equal(mine.recentEvents.length, 1);
});

test("ids are never trimmed into someone else's", () => {
  const ctx = bp.buildAgentContext({ userId: " alice", now: NOW, recentEvents: [storedEvent("alice", "s", 5)] });
  assert.equal(ctx.recentEvents.length, 0);
  assert.deepEqual(bp.contextQueries({ userId: " alice" }).sessions.filter.user_id, { $eq: " alice" });
});

test("a 200 KB id is shortened as the rows' are, and still reads its own rows", () => {
  const long = "u".repeat(200_000);
  const q = bp.contextQueries({ userId: long });
  const shortened = q.sessions.filter.user_id.$eq;
  assert.ok(Buffer.byteLength(shortened) <= 200 && shortened.includes("…#"), shortened.slice(0, 40));
  assert.ok(JSON.stringify(q).length < 2_000, `${JSON.stringify(q).length} bytes of queries`);
  const [row] = bp.mapActionsToRows({ ...GUIDE_BODY, user_id: long, session_id: "s".repeat(200_000) });
  assert.equal(row.user_id, shortened, "the same shortening on the write path");
  assert.ok(Buffer.byteLength(row.session_id) <= 200);
  const other = `${"u".repeat(199_999)}v`;
  assert.notEqual(bp.contextQueries({ userId: other }).sessions.filter.user_id.$eq, shortened);
  const ctx = bp.buildAgentContext({ userId: long, now: NOW, recentEvents: [storedEvent(shortened, "s", 5)] });
  assert.equal(ctx.recentEvents.length, 1);
  assert.ok(JSON.stringify(ctx).length < 4_000);
});

test("blank ids in a webhook body are absent", () => {
  const [row] = bp.mapActionsToRows({ ...GUIDE_BODY, user_id: "  ", session_id: "" });
  assert.equal(row.user_id ?? null, null);
  assert.equal(row.session_id ?? null, null);
});

test("normalizeId is the rule the rows follow: blank is null, long ids shortened by SHA-256, others kept", async () => {
  const { createHash } = await import("node:crypto");
  const inline = await import("../../pkg/inline.mjs");
  const long = `u-${"é".repeat(150)}`; // 302 UTF-8 bytes
  const expected = `u-${"é".repeat(79)}…#${createHash("sha256").update(long).digest("hex").slice(0, 32)}`;
  for (const api of [bp, inline]) {
    assert.equal(api.normalizeId(long), expected);
    assert.equal(api.normalizeId(expected), expected, "shortening a shortened id changes nothing");
    assert.equal(api.normalizeId(long), bp.mapActionsToRows({ ...GUIDE_BODY, user_id: long })[0].user_id);
    assert.equal(api.normalizeId(" alice"), " alice", "never trimmed");
    assert.equal(api.normalizeId("x".repeat(200)), "x".repeat(200));
    for (const blank of ["", "  ", "\u3000"]) assert.equal(api.normalizeId(blank), null);
    assert.throws(() => api.normalizeId(42), /normalizeId: id: expected a string, got number/);
  }
});
