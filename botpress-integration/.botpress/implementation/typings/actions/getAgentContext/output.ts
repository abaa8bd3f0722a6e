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
    /** The user's latest session summary, or null */
    summary: string | null;
    /** The user's actions inside the window, oldest first */
    recentEvents: Array<{
      /** Botpress's row id, on rows read back from the table */
      id?: number | string;
      /** When Botpress stored the row (ISO 8601), on rows read back from the table */
      createdAt?: string;
      /** What kind of action, e.g. "Click element" */
      title: string;
      /** What the user did, in words (personal data redacted) */
      description: string;
      /** The page, with ids and query strings normalised */
      canonical_url: string;
      /** Autoplay's user id */
      user_id: string | null;
      /** Autoplay's product id */
      product_id: string;
      /** Autoplay's session id */
      session_id: string | null;
      /** click, pageview, submit, … */
      action_type: string;
      /** The action's position in its session */
      action_index: number;
      /** When the user acted (ISO 8601), if known */
      occurred_at: string | null;
      /** The delivery it came in */
      batch_id: string | null;
      /** <batch id>:<position> (<session id>:<index> for the sessions layout): the key rows are upserted on */
      event_key: string;
    }>;
    /** Older actions in the window left out to stay within the caps */
    omittedEvents: number;
    /** How far back "recent" went */
    windowMs: number;
    /** When the context was built (ISO 8601) */
    generatedAt: string;
    /** Signs the user is stuck, found in those actions */
    signals: Array<{
      /** Which friction pattern */
      kind:
        | "ping_pong"
        | "hesitation"
        | "dwell"
        | "rage_clicks"
        | "repeated_submits"
        | "flow_abandoned";
      /** What the user did, e.g. went back and forth between two pages 3 times in 40 s */
      description: string;
      /** What the signal is based on */
      evidence: {
        /** The pages involved, in the order they matter */
        pages: string[];
        /** The elements clicked or submitted, if any */
        elements?: string[];
        /** How many times it happened */
        count: number;
        /** When it started (ISO 8601) */
        from: string;
        /** When it ended (ISO 8601) */
        to: string;
      };
    }>;
    /** Nudges the user was already sent inside the window, oldest first, and what came of them */
    nudges: Array<{
      /** The trigger id it was sent under */
      id: string;
      /** The friction it was about, e.g. rage_clicks */
      kind: string;
      /** What the user was shown */
      message: string;
      /** When it was sent (ISO 8601) */
      sent_at: string;
      /** What came of it so far: delivered or pending, replied / no_reply / reply_unknown, friction_stopped / friction_continued */
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
