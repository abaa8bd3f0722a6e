/* eslint-disable */
/* tslint:disable */
// This file is generated. Do not edit it manually.

export type Message = {
  tags: { "nudgeId": { "title": "Nudge id", "description": "The nudge this bot message delivers: a re-delivery creates no second message" } }
}