// The integration's actions, as Studio shows them on Action cards and as `actions.autoplay.<name>`
// in Execute Code cards.
import { z } from '@botpress/sdk'
import limits from 'autoplay-botpress/limits.json'

import { coreBounded } from './shared-configuration.js'
import { agentContext, eventRow, identity, nudge, tableQuery, tableRow } from './shapes.js'

/** Most characters of prompt text `getAgentContext` renders. */
export const MAX_PROMPT_CHARS = 8_000
/** Cap on the context's JSON (bytes), the core's default: with the text, the output stays under
 * half of 128 KB. */
export const MAX_CONTEXT_BYTES = limits.maxBytes.default
/** Longest Botpress conversation or user id taken (they are short generated ids). */
const MAX_BOTPRESS_ID_CHARS = 256

const ids = {
  userId: z
    .string()
    .optional()
    .title('Autoplay user id')
    .describe(
      `The chatting user's Autoplay user id, from the webchat user data, matched exactly (blank is none; over 200 bytes it is shortened as the streamer's rows are). Ignored when the identity secret is set.`
    ),
  sessionId: z
    .string()
    .optional()
    .title('Autoplay session id')
    .describe(
      `The chatting user's Autoplay session id, if the page passes it, matched exactly (blank is none; over 200 bytes it is shortened as the streamer's rows are). Ignored when the identity secret is set.`
    ),
  identityToken: z
    .string()
    .optional()
    .title('Identity token')
    .describe('The token your backend issued for this user, from the webchat user data. Required when the identity secret is set.'),
}

const now = z
  .union([z.number(), z.string()])
  .optional()
  .title('Now')
  .describe('"Now" as unix milliseconds or an ISO 8601 string; the current time when empty')

const rows = (table: string, layout: string) =>
  z.array(tableRow).optional().title(`${table} rows`).describe(`Rows read from ${table} (${layout} layout)`)

const read = z
  .object({
    table: z.string().title('Table').describe('The table to read'),
    input: z
      .enum(['sessionRows', 'recentEvents', 'summaryRecords'])
      .title('Input name')
      .describe('Which input of Get agent context the rows go to'),
    query: tableQuery.title('Query').describe('Pass to client.findTableRows({ table, ...query })'),
  })
  .strict()

export const actions = {
  mapActionsToRows: {
    title: 'Map actions to rows',
    description:
      'Turns a delivery (the generic Webhook body, or an Actions received payload) into AutoPlayEventsTable rows, personal data redacted, each keyed by event_key.',
    input: {
      schema: z.object({
        body: z.record(z.any()).title('Body').describe('The batch: event.payload.body behind the generic Webhook integration'),
        maxRowBytes: z
          .number()
          .int()
          .min(512)
          .optional()
          .title('Row size budget')
          .describe('Most bytes per row; default 3900 (Botpress stores 4 KB per row)'),
      }),
    },
    output: {
      schema: z.object({
        rows: z.array(eventRow).title('Rows').describe('Upsert into AutoPlayEventsTable with keyColumn event_key'),
      }),
    },
  },

  contextReads: {
    title: 'Reads for the chatting user',
    description:
      "The table reads that fetch the chatting user's activity (and nobody else's) for the configured layout, newest first. They stay valid for the whole conversation: read them once, keep them in a variable.",
    input: { schema: z.object({ ...ids, now }) },
    output: {
      schema: z.object({
        reads: z.array(read).title('Reads').describe('Empty when the chat is not identified: nothing is read'),
        identity,
      }),
    },
  },

  getAgentContext: {
    title: 'Get agent context',
    description: `The chatting user's activity for the agent, from the rows the card read: the structured context and the prompt text in one call. The context is capped at ${MAX_CONTEXT_BYTES} bytes of JSON (oldest actions dropped first) and the text at ${MAX_PROMPT_CHARS} characters, far under Botpress's 128 KB workflow state.`,
    input: {
      schema: z.object({
        ...ids,
        now,
        sessionRows: rows('AutoPlaySessionsTable', 'sessions'),
        recentEvents: rows('AutoPlayEventsTable', 'events'),
        summaryRecords: rows('AutoPlayEventsSummaryTable', 'events'),
        windowMs: coreBounded(z, 'windowMs')
          .optional()
          .title('Recent window (ms)')
          .describe('Overrides the configured window'),
        maxEvents: coreBounded(z, 'maxEvents')
          .optional()
          .title('Most actions')
          .describe('Overrides the configured number of actions'),
        maxChars: z
          .number()
          .int()
          .min(400)
          .max(MAX_PROMPT_CHARS)
          .optional()
          .title('Prompt size')
          .describe('Most characters of prompt text; default 4000'),
      }),
    },
    output: {
      schema: z.object({
        context: agentContext.title('Context').describe('Summary, recent actions and friction signals of the chatting user'),
        text: z.string().title('Prompt text').describe("Compact text for the agent's instructions, page text quoted as data"),
        identity,
      }),
    },
  },

  linkConversation: {
    title: 'Link conversation',
    description:
      'Links this conversation to the chatting Autoplay user, so the nudges fired for them are created in it; hands over a nudge that fired while they had no conversation open.',
    input: {
      schema: z.object({
        ...ids,
        conversationId: z.string().min(1).max(MAX_BOTPRESS_ID_CHARS).title('Conversation id').describe('This conversation: {{event.conversationId}}'),
        botpressUserId: z.string().min(1).max(MAX_BOTPRESS_ID_CHARS).title('Botpress user id').describe('The chatting Botpress user: {{event.userId}}'),
      }),
    },
    output: {
      schema: z.object({
        linked: z.boolean().title('Linked').describe('False when the chat is not identified (see identity.reason)'),
        identity,
        pendingNudge: nudge
          .nullable()
          .title('Waiting nudge')
          .describe('A nudge fired while the user had no conversation (handed out once), or null'),
      }),
    },
  },
}
