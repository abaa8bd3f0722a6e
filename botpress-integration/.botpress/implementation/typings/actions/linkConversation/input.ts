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
  /** This conversation: {{event.conversationId}} */
  conversationId: string;
  /** The chatting Botpress user: {{event.userId}} */
  botpressUserId: string;
};
