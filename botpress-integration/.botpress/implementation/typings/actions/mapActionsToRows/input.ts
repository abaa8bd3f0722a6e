/* eslint-disable */
/* tslint:disable */
// This file is generated. Do not edit it manually.

export type Input = {
  /** The batch: event.payload.body behind the generic Webhook integration */
  body: { [key: string]: any };
  /** Most bytes per row; default 3900 (Botpress stores 4 KB per row) */
  maxRowBytes?: number;
};
