// Random inputs, structured like real ones or not, never trap the WASM module: each call returns
// or throws a plain Error, and the module keeps working afterwards.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { GUIDE_BODY, NOW, storedEvent } from "./fixtures.mjs";

const bp = createRequire(import.meta.url)("../../pkg");

// Small deterministic PRNG (mulberry32) so a failure can be replayed from its seed.
function rng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KEYS = ["actions", "title", "description", "canonical_url", "index", "type", "session_id", "user_id",
  "product_id", "count", "timestamp_start", "createdAt", "updatedAt", "summary", "recentEvents",
  "summaryRecords", "userId", "sessionId", "now", "windowMs", "maxEvents", "maxChars", "maxRowBytes"];

function randomValue(r, depth = 0) {
  const pick = Math.floor(r() * (depth > 3 ? 9 : 12));
  switch (pick) {
    case 0: return null;
    case 1: return undefined;
    case 2: return r() < 0.5;
    case 3: return Math.floor((r() - 0.5) * 2 ** (r() * 70));
    case 4: return [NaN, Infinity, -0, 1e308, -1.5, 2 ** 53 + 1][Math.floor(r() * 6)];
    case 5: return "x".repeat(Math.floor(r() * 20));
    case 6: return String.fromCodePoint(...Array.from({ length: 8 }, () => Math.floor(r() * 0x10ffff) & ~0x800));
    case 7: return new Date(NOW - r() * 1e6).toISOString();
    case 8: return "😀".repeat(Math.floor(r() * 3000));
    case 9: return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
    default: {
      const o = {};
      for (let i = Math.floor(r() * 5); i > 0; i--) o[KEYS[Math.floor(r() * KEYS.length)]] = randomValue(r, depth + 1);
      return o;
    }
  }
}

/** A valid input with one field somewhere replaced by a random value. */
function mutate(r, valid) {
  const copy = structuredClone(valid);
  let target = copy;
  for (let depth = 0; depth < 3; depth++) {
    const keys = Object.keys(target);
    const key = keys[Math.floor(r() * keys.length)];
    if (typeof target[key] === "object" && target[key] !== null && r() < 0.6) target = target[key];
    else {
      target[key] = randomValue(r);
      break;
    }
  }
  return copy;
}

function call(fn) {
  try {
    const out = fn();
    return out instanceof Promise ? out.catch((e) => e) : out;
  } catch (err) {
    assert.ok(!(err instanceof WebAssembly.RuntimeError), `WASM trap: ${err.message}`);
    assert.ok(err instanceof Error, `threw a non-Error: ${String(err)}`);
    assert.ok(err.message.length > 0);
    return err;
  }
}

test("2,000 random and mutated inputs never trap", async () => {
  const r = rng(0x5eed);
  const validContext = {
    recentEvents: [storedEvent("A", "s", 3), storedEvent("B", "t", 4)],
    summaryRecords: [{ session_id: "s", user_id: "A", summary: "ok" }],
    userId: "A",
    now: NOW,
  };
  const table = (rows) => ({ findRecords: async () => rows });
  for (let i = 0; i < 2000; i++) {
    const any = randomValue(r);
    const body = r() < 0.5 ? any : mutate(r, GUIDE_BODY);
    const input = r() < 0.5 ? any : mutate(r, validContext);
    call(() => bp.mapActionsToRows(body, r() < 0.2 ? randomValue(r) : undefined));
    call(() => bp.contextQueries(r() < 0.5 ? input : any));
    const ctx = call(() => bp.buildAgentContext(input));
    call(() => bp.renderAgentContext(ctx instanceof Error ? any : ctx, r() < 0.2 ? randomValue(r) : undefined));
    await call(() => bp.fetchAgentContext(table(input?.recentEvents), table(any), input));
    call(() => bp.detectSignals(r() < 0.5 ? { events: input?.recentEvents, now: NOW, config: any } : any));
    call(() => bp.parseWebhookBody(r() < 0.5 ? body : any));
  }
  assert.equal(bp.mapActionsToRows(GUIDE_BODY)[0].title, "Click element", "still healthy afterwards");
});
