/* eslint-disable */
/* tslint:disable */
// This file is generated. Do not edit it manually.

export type ActionsReceived = {
  /** The delivery; a re-delivery carries the same id */
  batchId: string;
  /** Autoplay's user id */
  userId: string | null;
  /** Autoplay's session id */
  sessionId: string | null;
  /** Autoplay's product id */
  productId: string;
  /** How many actions the delivery holds */
  actionCount: number;
  /** The delivery as received, redacted */
  batch: { [key: string]: any };
  /** Upsert into AutoPlayEventsTable with keyColumn event_key */
  rows: Array<{
    /** What kind of action, e.g. "Click element" */
    title: string;
    /** What the user did, in words */
    description: string;
    /** The page, with dynamic path segments collapsed to `:id` */
    canonical_url: string;
    /** 0-based position of the action in its session */
    action_index: number;
    /** Lower-case kind: `pageview`, `click`, `submit`, … */
    action_type: string;
    /** Botpress's row id, on rows read back from the table */
    id?: number | string | null;
    /** When Botpress stored the row (ISO-8601), on rows read back from the table */
    createdAt?: string | null;
    /** Autoplay's user id */
    user_id: string | null;
    /** Autoplay's product id */
    product_id: string;
    /** Autoplay's session id */
    session_id: string | null;
    /** When the user performed the action (ISO-8601), if the connector said */
    occurred_at: string | null;
    /** The delivery it came in */
    batch_id: string | null;
    /** The key rows are upserted on: `<batch_id>:<position>` (`<session_id>:<index>` for the sessions layout), so a re-delivered action updates its row instead of adding one */
    event_key: string;
  }>;
};
