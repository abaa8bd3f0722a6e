/* eslint-disable */
/* tslint:disable */
// This file is generated. Do not edit it manually.

export type Configuration = {
  /** 16+ characters, shared with the sender: the streamer's --webhook-secret, or the Autoplay connector's push-mode secret. Requests without a valid X-Connector-Signature are refused. */
  webhookSecret: string;
  /** Optional, 32+ characters. Your backend signs each user's identity token with it (HS256: sub = Autoplay user id, sid = session id, exp). When set, a chat only ever reads the activity of the user its token names. When empty, the ids the webchat passes are trusted as they are. */
  identitySecret?: string;
  /** Identity tokens that live longer than this (exp − iat, or exp − now without iat) are refused, so a leaked token stops working soon. Default 86400 (a day). */
  maxIdentityLifetimeSeconds?: number;
  /** How far back the "recent actions" handed to the agent go, in milliseconds. Default 120000 (two minutes). */
  windowMs?: number;
  /** The most recent actions handed to the agent per chat turn (the newest are kept). Default 50. */
  maxEvents?: number;
  /** Where activity is stored: 'sessions' (AutoPlaySessionsTable, one row per session: the streamer's default) or 'events' (AutoPlayEventsTable and AutoPlayEventsSummaryTable, the tables of the original guide and of the webhook path). */
  layout?: "sessions" | "events";
  /** Which ids decide whose activity a chat sees: 'userId' (all of the user's sessions), 'sessionId' (the current browser session only) or 'userAndSession' (both must match). */
  matchUserBy?: "userId" | "sessionId" | "userAndSession";
};
