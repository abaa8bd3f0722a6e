/* eslint-disable */
/* tslint:disable */
// This file is generated. Do not edit it manually.
import * as getLiveContext from "./getLiveContext/index";
export * as getLiveContext from "./getLiveContext/index";

export type Actions = {
  "getLiveContext": getLiveContext.GetLiveContext;
}
