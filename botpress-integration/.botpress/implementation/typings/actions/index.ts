/* eslint-disable */
/* tslint:disable */
// This file is generated. Do not edit it manually.
import * as mapActionsToRows from "./mapActionsToRows/index";
export * as mapActionsToRows from "./mapActionsToRows/index";
import * as contextReads from "./contextReads/index";
export * as contextReads from "./contextReads/index";
import * as getAgentContext from "./getAgentContext/index";
export * as getAgentContext from "./getAgentContext/index";
import * as linkConversation from "./linkConversation/index";
export * as linkConversation from "./linkConversation/index";

export type Actions = {
  "mapActionsToRows": mapActionsToRows.MapActionsToRows;
  "contextReads": contextReads.ContextReads;
  "getAgentContext": getAgentContext.GetAgentContext;
  "linkConversation": linkConversation.LinkConversation;
}
