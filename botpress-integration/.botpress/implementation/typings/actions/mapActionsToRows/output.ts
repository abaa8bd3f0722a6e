/* eslint-disable */
/* tslint:disable */
// This file is generated. Do not edit it manually.

export type Output = {
  /** Upsert into AutoPlayEventsTable with keyColumn event_key */
  rows: Array<{
    /** Botpress's row id, on rows read back from the table */
    id?: number | string;
    /** When Botpress stored the row (ISO 8601), on rows read back from the table */
    createdAt?: string;
    /** What kind of action, e.g. "Click element" */
    title: string;
    /** What the user did, in words (personal data redacted) */
    description: string;
    /** The page, with ids and query strings normalised */
    canonical_url: string;
    /** Autoplay's user id */
    user_id: string | null;
    /** Autoplay's product id */
    product_id: string;
    /** Autoplay's session id */
    session_id: string | null;
    /** click, pageview, submit, … */
    action_type: string;
    /** The action's position in its session */
    action_index: number;
    /** When the user acted (ISO 8601), if known */
    occurred_at: string | null;
    /** The delivery it came in */
    batch_id: string | null;
    /** <batch id>:<position> (<session id>:<index> for the sessions layout): the key rows are upserted on */
    event_key: string;
  }>;
};
