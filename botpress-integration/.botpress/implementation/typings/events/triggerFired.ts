/* eslint-disable */
/* tslint:disable */
// This file is generated. Do not edit it manually.

export type TriggerFired = {
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
  /** Autoplay's user id */
  userId: string | null;
  /** The user's conversation, where this event was created */
  conversationId: string;
  /** The friction signal and its evidence (pages, elements, count, from, to) */
  signal: { [key: string]: any };
};
