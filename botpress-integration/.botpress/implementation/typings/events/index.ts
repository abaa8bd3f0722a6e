/* eslint-disable */
/* tslint:disable */
// This file is generated. Do not edit it manually.
import * as actionsReceived from "./actionsReceived";
export * as actionsReceived from "./actionsReceived";
import * as triggerFired from "./triggerFired";
export * as triggerFired from "./triggerFired";
import * as summaryReceived from "./summaryReceived";
export * as summaryReceived from "./summaryReceived";

export type Events = {
  "actionsReceived": actionsReceived.ActionsReceived;
  "triggerFired": triggerFired.TriggerFired;
  "summaryReceived": summaryReceived.SummaryReceived;
}
