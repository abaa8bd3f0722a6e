/* eslint-disable */
/* tslint:disable */
// This file is generated. Do not edit it manually.

export type User = {
  tags: { "autoplayUserId": { "title": "Autoplay user id", "description": "The Autoplay user this Botpress user was verified as" }, "autoplaySessionId": { "title": "Autoplay session id", "description": "The Autoplay session the user last chatted from" }, "conversationId": { "title": "Conversation", "description": "The conversation the user last wrote in: where nudges go" } }
}