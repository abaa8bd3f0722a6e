// The events the integration creates; a workflow starts on one with a Trigger card.
import { z } from '@botpress/sdk'

import { eventRow, nudgeFields } from './shapes.js'

const productId = z.string().title('Product id').describe("Autoplay's product id")

export const events = {
  actionsReceived: {
    title: 'Actions received',
    description:
      'A verified delivery of UI actions (webhook path), personal data redacted, with its rows ready to upsert into AutoPlayEventsTable.',
    schema: z.object({
      batchId: z.string().title('Batch id').describe('The delivery; a re-delivery carries the same id'),
      userId: z.string().nullable().title('User id').describe("Autoplay's user id"),
      sessionId: z.string().nullable().title('Session id').describe("Autoplay's session id"),
      productId,
      actionCount: z.number().title('Actions').describe('How many actions the delivery holds'),
      batch: z.record(z.any()).title('Batch').describe('The delivery as received, redacted'),
      rows: z.array(eventRow).title('Rows').describe('Upsert into AutoPlayEventsTable with keyColumn event_key'),
    }),
  },
  triggerFired: {
    title: 'Trigger fired',
    description:
      "The streamer saw the user struggle (back and forth between pages, repeated submits, …). Created in the conversation the user chats in, so a Text card in this workflow reaches their webchat.",
    schema: z.object({
      ...nudgeFields,
      userId: z.string().nullable().title('User id').describe("Autoplay's user id"),
      conversationId: z.string().title('Conversation id').describe("The user's conversation, where this event was created"),
      signal: z.record(z.any()).title('Signal').describe('The friction signal and its evidence (pages, elements, count, from, to)'),
    }),
  },
  summaryReceived: {
    title: 'Summary received',
    description: "A session summary written by the Autoplay connector (push mode), for AutoPlayEventsSummaryTable.",
    schema: z.object({
      sessionId: z.string().nullable().title('Session id').describe("Autoplay's session id"),
      productId,
      summary: z.string().title('Summary').describe('What the user did in the session, in prose (personal data redacted)'),
      replaces: z.number().title('Actions covered').describe('How many actions the summary stands for'),
    }),
  },
}
