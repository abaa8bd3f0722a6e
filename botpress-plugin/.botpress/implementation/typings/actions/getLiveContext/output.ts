/* eslint-disable */
/* tslint:disable */
// This file is generated. Do not edit it manually.

export type Output = {
  /** The live context, ready for the prompt; empty when nothing is known */
  text: string;
  /** Whether the chatting user is linked to Autoplay activity */
  identified: boolean;
  /** Why nothing was read, when nothing was */
  reason: string | null;
};
