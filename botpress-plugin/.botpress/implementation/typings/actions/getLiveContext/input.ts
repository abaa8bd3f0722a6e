/* eslint-disable */
/* tslint:disable */
// This file is generated. Do not edit it manually.

export type Input = {
  /** The conversation the agent answers in ({{event.conversationId}}) */
  conversationId: string;
};
