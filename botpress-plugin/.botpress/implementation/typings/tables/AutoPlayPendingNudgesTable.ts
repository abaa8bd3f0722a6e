/* eslint-disable */
/* tslint:disable */
// This file is generated. Do not edit it manually.

export type AutoPlayPendingNudgesTable = {
  /** user:<Autoplay user id> or session:<Autoplay session id> */
  key: string;
  /** The delivery id; the same nudge is never shown twice */
  nudgeId: string;
  /** The text the user sees */
  message: string;
  /** Quick replies; empty for a plain text message */
  choices: Array<{
    /** What the button shows */
    title: string;
    /** What the bot receives when the user picks it */
    value: string;
  }>;
  /** ISO time after which the nudge is no longer shown */
  expiresAt: string;
};
