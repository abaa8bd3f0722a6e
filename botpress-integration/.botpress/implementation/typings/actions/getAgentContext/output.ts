/* eslint-disable */
/* tslint:disable */
// This file is generated. Do not edit it manually.

export type Output = {
  /** Summary, recent actions and friction signals of the chatting user */
  context: {
    /** Whose activity this is */
    userId: string | null;
    /** The session it is limited to, if any */
    sessionId: string | null;
    /** Full text of the scope's most recent summary, or `null` */
    summary: string | null;
    /** The scope's events inside the window, oldest first, newest last */
    recentEvents: Array<{
      /** What kind of action, e.g. "Click element" */
      title: string;
      /** What the user did, in words */
      description: string;
      /** The page, with dynamic path segments collapsed to `:id` */
      canonical_url: string;
      /** 0-based position of the action in its session */
      action_index: number;
      /** Lower-case kind: `pageview`, `click`, `submit`, … */
      action_type: string;
      /** Botpress's row id, on rows read back from the table */
      id?: number | string | null;
      /** When Botpress stored the row (ISO-8601), on rows read back from the table */
      createdAt?: string | null;
      /** Autoplay's user id */
      user_id: string | null;
      /** Autoplay's product id */
      product_id: string;
      /** Autoplay's session id */
      session_id: string | null;
      /** When the user performed the action (ISO-8601), if the connector said */
      occurred_at: string | null;
      /** The delivery it came in */
      batch_id: string | null;
      /** The key rows are upserted on: `<batch_id>:<position>` (`<session_id>:<index>` for the sessions layout), so a re-delivered action updates its row instead of adding one */
      event_key: string;
    }>;
    /** Events inside the window left out by the `maxEvents` or `maxBytes` cap (the oldest ones) */
    omittedEvents: number;
    /** How far back "recent" went, in milliseconds */
    windowMs: number;
    /** When the context was built (ISO-8601) */
    generatedAt: string;
    /** Friction signals found in the scope's events inside the window */
    signals: Array<{
      /** Which friction pattern */
      kind:
        | "ping_pong"
        | "hesitation"
        | "dwell"
        | "rage_clicks"
        | "repeated_submits"
        | "flow_abandoned";
      /** What the user did, e.g. "went back and forth between /pricing and /checkout 3 times in 40 s" */
      description: string;
      /** What the signal is based on */
      evidence: {
        /** Pages involved, in the order they matter */
        pages: string[];
        /** Elements involved (clicked or submitted), if any */
        elements?: string[];
        /** How many times the pattern happened (returns, clicks, submits, …) */
        count: number;
        /** When it started (ISO-8601) */
        from: string;
        /** When it ended (ISO-8601) */
        to: string;
      };
    }>;
    /** Nudges the user was already sent, oldest first, and what came of them */
    nudges: Array<{
      /** A short name of the trigger it was sent for (`NudgeNote::id_for`) */
      id: string;
      /** The friction it was about: a signal kind, e.g. `rage_clicks` */
      kind: string;
      /** What the user was shown */
      message: string;
      /** When it was sent (ISO-8601) */
      sent_at: string;
      /** What came of it so far, in the order known: `delivered` or `pending`, then `replied`, `no_reply` or `reply_unknown`, and `friction_stopped` or `friction_continued` */
      outcomes: string[];
    }>;
  };
  /** Compact text for the agent's instructions, page text quoted as data */
  text: string;
  /** Whose activity this chat may read, and why */
  identity: {
    /** True when a valid identity token vouched for the ids */
    verified: boolean;
    /** Why nothing was read or linked, e.g. an expired token; null otherwise */
    reason: string | null;
  };
};
