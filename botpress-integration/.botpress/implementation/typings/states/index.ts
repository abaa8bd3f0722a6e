/* eslint-disable */
/* tslint:disable */
// This file is generated. Do not edit it manually.
import * as links from "./links/index";
export * as links from "./links/index";
import * as nudges from "./nudges/index";
export * as nudges from "./nudges/index";
import * as seen from "./seen/index";
export * as seen from "./seen/index";
import * as replays from "./replays/index";
export * as replays from "./replays/index";

export type States = {
  "links": links.Links;
  "nudges": nudges.Nudges;
  "seen": seen.Seen;
  "replays": replays.Replays;
}
