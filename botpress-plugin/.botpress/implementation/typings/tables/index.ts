/* eslint-disable */
/* tslint:disable */
// This file is generated. Do not edit it manually.
import * as autoPlayPendingNudgesTable from "./AutoPlayPendingNudgesTable";
export * as autoPlayPendingNudgesTable from "./AutoPlayPendingNudgesTable";

export type Tables = {
  "AutoPlayPendingNudgesTable": autoPlayPendingNudgesTable.AutoPlayPendingNudgesTable;
}
