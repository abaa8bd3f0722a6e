"use strict";
// The package's JavaScript API over the WebAssembly core (src/wasm.rs), which takes and returns
// JSON text only.
//
// Every argument becomes JSON text here, inside a try: a getter, a Proxy trap or a cycle that
// throws does so in JavaScript, never through WebAssembly frames (an exception unwinding through
// them leaves the module's stack pointer behind; enough of them and every later call fails).
// Oversized input is refused with an Error before it reaches the core. The chatting user's rows
// are picked out here, so a table's worth of other users' rows never crosses into WebAssembly.

/** Largest argument, as characters of JSON, a function takes. */
const MAX_INPUT_CHARS = 32 * 1024 * 1024;

/** Longest id the core keeps as it is, in UTF-8 bytes (src/ids.rs `MAX_ID_BYTES`). */
const MAX_ID_BYTES = 200;
const utf8 = new TextEncoder();

/** A string id that is not blank, else `undefined` (as the core reads ids). */
function idOf(value) {
  return typeof value === "string" && value.trim() !== "" ? value : undefined;
}

function isLong(id) {
  return id.length > MAX_ID_BYTES / 3 && utf8.encode(id).length > MAX_ID_BYTES;
}

function message(err) {
  return err instanceof Error ? err.message : String(err);
}

function makeApi(raw) {
  /** `value` as JSON text for the core, or an Error naming `name` and `what`. */
  function json(name, what, value) {
    let text;
    if (typeof value === "string") {
      text = value;
    } else if (value === undefined || typeof value === "function" || typeof value === "symbol") {
      throw new Error(`${name}: ${what}: expected an object, got ${typeof value}`);
    } else {
      try {
        text = JSON.stringify(value);
      } catch (err) {
        throw new Error(`${name}: ${what}: cannot be read as JSON: ${message(err)}`);
      }
    }
    if (text.length > MAX_INPUT_CHARS) {
      throw new Error(
        `${name}: ${what}: ${text.length} characters of JSON is more than the ${MAX_INPUT_CHARS} this function takes`,
      );
    }
    return text;
  }

  /** Options as JSON text; absent means all defaults. */
  function options(name, value) {
    return value === undefined || value === null ? "" : json(name, "options", value);
  }

  /**
   * A shallow copy of a context input holding only the rows of the requested user/session. Ids
   * follow the core's rules (src/ids.rs): a blank id is no id; an id over the core's 200 bytes
   * is shortened there, so rows are left for the core to match.
   */
  function preselect(name, input) {
    if (input === null || typeof input !== "object") return input;
    try {
      const userId = idOf(input.userId);
      const sessionId = idOf(input.sessionId);
      const scoped = userId !== undefined || sessionId !== undefined;
      const same = (id, rowId) => id === undefined || rowId === id || isLong(id);
      const mine = (row) =>
        scoped &&
        row !== null &&
        typeof row === "object" &&
        same(userId, row.user_id) &&
        same(sessionId, row.session_id);
      const copy = { ...input };
      for (const key of ["recentEvents", "sessionRows"]) {
        if (Array.isArray(input[key])) copy[key] = input[key].filter(mine);
      }
      return copy;
    } catch (err) {
      throw new Error(`${name}: input: cannot be read: ${message(err)}`);
    }
  }

  const api = {
    mapActionsToRows(body, opts) {
      const name = "mapActionsToRows";
      const { rows, skipped } = JSON.parse(raw.mapActionsToRows(json(name, "body", body), options(name, opts)));
      // Actions left out as unreadable: said on the array, so callers of a plain array keep working.
      return skipped ? Object.assign(rows, { skipped }) : rows;
    },
    parseWebhookBody(body, opts) {
      const name = "parseWebhookBody";
      return JSON.parse(raw.parseWebhookBody(json(name, "body", body), options(name, opts)));
    },
    detectSignals(input) {
      return JSON.parse(raw.detectSignals(json("detectSignals", "input", input), Date.now()));
    },
    contextQueries(opts) {
      return JSON.parse(raw.contextQueries(options("contextQueries", opts), Date.now()));
    },
    buildAgentContext(input) {
      const name = "buildAgentContext";
      return JSON.parse(raw.buildAgentContext(json(name, "input", preselect(name, input)), Date.now()));
    },
    normalizeId(id) {
      if (typeof id !== "string") throw new Error(`normalizeId: id: expected a string, got ${typeof id}`);
      if (id.length > MAX_INPUT_CHARS) {
        throw new Error(`normalizeId: id: ${id.length} characters is more than the ${MAX_INPUT_CHARS} this function takes`);
      }
      return raw.normalizeId(id) ?? null;
    },
    renderAgentContext(context, opts) {
      const name = "renderAgentContext";
      return raw.renderAgentContext(json(name, "context", context), options(name, opts));
    },
    /**
     * Reads the chatting user's rows and builds their context: `fetchAgentContext({ sessions },
     * options)` for the sessions layout, `fetchAgentContext(eventsTable, summaryTable, options)`
     * (or `{ events, summaries }`) for the events layout. Queries nothing without a user or
     * session id.
     */
    async fetchAgentContext(...args) {
      const separate = args.length >= 3 || (args[1] != null && typeof args[1].findRecords === "function");
      const tables = separate ? { events: args[0], summaries: args[1] } : (args[0] ?? {});
      const opts = (separate ? args[2] : args[1]) ?? {};
      const queries = api.contextQueries(opts);
      const input = { ...opts, recentEvents: [], summaryRecords: [], sessionRows: [] };
      if (queries.scoped) {
        if (tables.sessions) input.sessionRows = await find("sessionsTable", tables.sessions, queries.sessions);
        if (tables.events) input.recentEvents = await find("eventsTable", tables.events, queries.events);
        if (tables.summaries) input.summaryRecords = await find("summaryTable", tables.summaries, queries.summaries);
      }
      return api.buildAgentContext(input);
    },
  };

  /** `table.findRecords(query)`'s rows (it may answer an array or `{ rows }`). */
  async function find(what, table, query) {
    if (table === null || typeof table !== "object" || typeof table.findRecords !== "function") {
      throw new Error(`fetchAgentContext: ${what}: expected a table with a findRecords method`);
    }
    let result;
    try {
      result = await table.findRecords(query);
    } catch (err) {
      throw new Error(`fetchAgentContext: ${what}.findRecords failed: ${message(err)}`);
    }
    if (Array.isArray(result)) return result;
    return result !== null && typeof result === "object" && Array.isArray(result.rows) ? result.rows : [];
  }

  return Object.freeze(api);
}

module.exports = { makeApi, MAX_INPUT_CHARS };
