/* eslint-disable */
/* tslint:disable */
// This file is generated. Do not edit it manually.

import * as payload from './payload'
export type Replays = {
  type: "integration",
  payload: payload.Payload
}