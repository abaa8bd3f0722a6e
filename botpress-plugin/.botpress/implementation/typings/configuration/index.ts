/* eslint-disable */
/* tslint:disable */
// This file is generated. Do not edit it manually.

export type Configuration = {
  /** Optional, 32+ characters. Your backend signs each user's identity token with it (HS256: sub = Autoplay user id, sid = session id, exp) and the webchat passes it as user data `autoplayToken`. When set, a chat only ever sees the activity of the user its token names. When neither this nor the Chat integration encryption key is set, the ids the webchat passes (`autoplayUserId`, `autoplaySessionId`) are trusted as they are. */
  identitySecret?: string;
  /** Optional: the Encryption Key configured in your bot's Chat integration. Set it when your backend already signs Chat user keys (HS256 JWT, claim id = the user's id) and the webchat passes that key as user data `chatUserKey`: the plugin verifies it with this key and uses its id as the Autoplay user id. When this or the identity secret is set, unsigned ids are never trusted. */
  chatEncryptionKey?: string;
  /** Identity tokens that live longer than this (exp − iat, or exp − now without iat) are refused, so a leaked token stops working soon. Default 86400 (a day). */
  maxIdentityLifetimeSeconds?: number;
  /** Which ids decide whose activity a chat sees: 'userId' (all of the user's sessions), 'sessionId' (the current browser session only) or 'userAndSession' (both must match). */
  matchUserBy?: "userId" | "sessionId" | "userAndSession";
  /** The table the streamer writes one row per session into (its --sessions-table). Default AutoPlaySessionsTable. */
  sessionsTable?: string;
  /** How far back the "recent actions" handed to the agent go, in milliseconds. Default 120000 (two minutes). */
  windowMs?: number;
  /** The most recent actions handed to the agent per chat turn (the newest are kept). Default 50. */
  maxEvents?: number;
  /** The most characters of live context the agent gets per call. Default 4000. */
  maxChars?: number;
};
