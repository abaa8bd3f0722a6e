/* eslint-disable */
/* tslint:disable */
// This file is generated. Do not edit it manually.

export type SummaryReceived = {
  /** Autoplay's session id */
  sessionId: string | null;
  /** Autoplay's product id */
  productId: string;
  /** What the user did in the session, in prose (personal data redacted) */
  summary: string;
  /** How many actions the summary stands for */
  replaces: number;
};
