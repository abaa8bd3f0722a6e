/* eslint-disable */
/* tslint:disable */
// This file is generated. Do not edit it manually.

export type Output = {
  /** False when the chat is not identified (see identity.reason) */
  linked: boolean;
  /** Whose activity this chat may read, and why */
  identity: {
    /** True when a valid identity token vouched for the ids */
    verified: boolean;
    /** Why nothing was read or linked, e.g. an expired token; null otherwise */
    reason: string | null;
  };
  /** A nudge fired while the user had no conversation (handed out once), or null */
  pendingNudge: {
    /** Unique per trigger: a re-delivery is recognised by it */
    triggerId: string;
    /** ping_pong, hesitation, dwell, rage_clicks, repeated_submits or flow_abandoned */
    trigger: string;
    /** The suggested opening message */
    message: string;
    /** What the user did, e.g. "went back and forth between /pricing and /checkout 3 times in 40 s" */
    description: string;
    /** Autoplay's session id */
    sessionId: string;
    /** Autoplay's product id */
    productId: string;
  } | null;
};
