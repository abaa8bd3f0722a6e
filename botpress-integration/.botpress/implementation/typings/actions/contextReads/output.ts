/* eslint-disable */
/* tslint:disable */
// This file is generated. Do not edit it manually.

export type Output = {
  /** Empty when the chat is not identified: nothing is read */
  reads: Array<{
    /** The table to read */
    table: string;
    /** Which input of Get agent context the rows go to */
    input: "sessionRows" | "recentEvents" | "summaryRecords";
    /** Pass to client.findTableRows({ table, ...query }) */
    query: {
      /** Botpress table filter */
      filter: { [key: string]: any };
      /** Most rows to read */
      limit: number;
      /** Column to sort on */
      orderBy: string;
      /** desc: newest first */
      orderDirection: string;
    };
  }>;
  /** Whose activity this chat may read, and why */
  identity: {
    /** True when a valid identity token vouched for the ids */
    verified: boolean;
    /** Why nothing was read or linked, e.g. an expired token; null otherwise */
    reason: string | null;
  };
};
