/* eslint-disable */
/* tslint:disable */
// This file is generated. Do not edit it manually.

export type Input = {
  /** The chatting user's Autoplay user id, from the webchat user data, matched exactly (blank is none; over 200 bytes it is shortened as the streamer's rows are). Ignored when the identity secret is set. */
  userId?: string;
  /** The chatting user's Autoplay session id, if the page passes it, matched exactly (blank is none; over 200 bytes it is shortened as the streamer's rows are). Ignored when the identity secret is set. */
  sessionId?: string;
  /** The token your backend issued for this user, from the webchat user data. Required when the identity secret is set. */
  identityToken?: string;
  /** "Now" as unix milliseconds or an ISO 8601 string; the current time when empty */
  now?: number | string;
  /** Rows read from AutoPlaySessionsTable (sessions layout) */
  sessionRows?: Array<{ [key: string]: any }>;
  /** Rows read from AutoPlayEventsTable (events layout) */
  recentEvents?: Array<{ [key: string]: any }>;
  /** Rows read from AutoPlayEventsSummaryTable (events layout) */
  summaryRecords?: Array<{ [key: string]: any }>;
  /** Overrides the configured window */
  windowMs?: number;
  /** Overrides the configured number of actions */
  maxEvents?: number;
  /** Most characters of prompt text; default 4000 */
  maxChars?: number;
};
