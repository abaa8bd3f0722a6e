/* eslint-disable */
/* tslint:disable */
// This file is generated. Do not edit it manually.

export type Conversation = {
  tags: { "autoplayUserId": { "title": "Autoplay user id", "description": "The Autoplay user chatting here" }, "autoplaySessionId": { "title": "Autoplay session id", "description": "The Autoplay session chatting here" } }
}