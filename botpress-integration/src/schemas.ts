// Schemas of the integration's configuration, actions and events. Studio shows them as the
// inputs and outputs of each action card; the handlers validate with the same objects.
import { z } from '@botpress/sdk'

export const configuration = z.object({
  webhookSecret: z
    .string()
    .min(16)
    .describe(
      "Shared secret (16+ characters). The streamer's --webhook-secret, or the connector's push-mode secret: every POST must carry X-Connector-Signature: sha256=<HMAC-SHA256 of the body>."
    ),
  windowMs: z
    .number()
    .int()
    .min(1_000)
    .max(86_400_000)
    .default(120_000)
    .describe('How far back "recent" events go, in milliseconds (default two minutes).'),
  maxEvents: z.number().int().min(1).max(500).default(50).describe('Most events handed to the agent (the newest are kept).'),
  layout: z
    .enum(['sessions', 'events'])
    .default('sessions')
    .describe(
      "Where the streamer writes: 'sessions' (AutoPlaySessionsTable, one row per session; the streamer's default) or 'events' (AutoPlayEventsTable + AutoPlayEventsSummaryTable, the guide's tables)."
    ),
  matchUserBy: z
    .enum(['userId', 'sessionId', 'userAndSession'])
    .default('userId')
    .describe(
      "How the chatting user is matched to Autoplay's ids: by user_id (all of the user's sessions), by session_id (the current tab only), or both."
    ),
})
export type Configuration = z.infer<typeof configuration>

/** A table row as Execute Code cards read it (`findRecords`): any columns. */
const tableRow = z.record(z.any())

export const eventRow = z.object({
  title: z.string(),
  description: z.string(),
  canonical_url: z.string(),
  user_id: z.string().nullable(),
  product_id: z.string(),
  session_id: z.string().nullable(),
  action_type: z.string(),
  action_index: z.number(),
  occurred_at: z.string().nullable(),
  batch_id: z.string().nullable(),
})

const scope = {
  userId: z.string().optional().describe("The chatting user's Autoplay user_id (from the webchat user data)"),
  sessionId: z.string().optional().describe("The chatting user's Autoplay session_id, if the host app passes it"),
}

const tableQuery = z.object({
  filter: tableRow,
  limit: z.number(),
  orderBy: z.string(),
  orderDirection: z.string(),
})

const now = z
  .union([z.number(), z.string()])
  .optional()
  .describe('"Now" as unix milliseconds or an ISO string; defaults to the current time');

export const agentContext = z.object({
  userId: z.string().nullable(),
  sessionId: z.string().nullable(),
  summary: z.string().nullable().describe("Full text of the user's latest session summary, or null"),
  recentEvents: z.array(tableRow).describe("The user's events inside the window, oldest first"),
  omittedEvents: z.number(),
  windowMs: z.number(),
  generatedAt: z.string(),
})

export const actions = {
  mapActionsToRows: {
    title: 'Map actions to rows',
    description: 'Turns a webhook body (or an actionsReceived event payload) into AutoPlayEventsTable rows (StoreEventsData).',
    input: z.object({
      body: z.record(z.any()).describe('The batch: event.payload.batch, or the generic webhook body'),
      maxRowBytes: z.number().int().min(512).optional().describe('Row size budget; default 3900 bytes'),
    }),
    output: z.object({ rows: z.array(eventRow) }),
  },
  contextFilters: {
    title: 'Filters for the chatting user',
    description: "The findRecords queries for the chatting user's recent events and summary, scoped per the configuration.",
    input: z.object({ ...scope, now, windowMs: z.number().int().optional() }),
    output: z.object({
      reads: z
        .array(
          z.object({
            table: z.string().describe('The table to read'),
            input: z.enum(['sessionRows', 'recentEvents', 'summaryRecords']).describe('Which Build agent context input its rows are'),
            query: tableQuery.describe('Pass to client.findTableRows({ table, ...query })'),
          })
        )
        .describe("The reads of this chat turn for the configured layout; empty when no id was given"),
      eventsQuery: tableQuery,
      summaryQuery: tableQuery,
      scoped: z.boolean().describe('False when no id was given: the queries then match nothing'),
    }),
  },
  buildAgentContext: {
    title: 'Build agent context',
    description: "Keeps only the chatting user's events and summary (FetchEventsData), newest last, capped.",
    input: z.object({
      ...scope,
      now,
      recentEvents: z.array(tableRow).optional().describe('Rows of AutoPlayEventsTable (events layout)'),
      summaryRecords: z.array(tableRow).optional().describe('Rows of AutoPlayEventsSummaryTable (events layout)'),
      sessionRows: z.array(tableRow).optional().describe('Rows of AutoPlaySessionsTable (sessions layout)'),
      windowMs: z.number().int().optional(),
      maxEvents: z.number().int().optional(),
    }),
    output: z.object({ context: agentContext }),
  },
  renderAgentContext: {
    title: 'Render agent context',
    description: "The context as compact prompt text, the user's page text quoted as data.",
    input: z.object({
      context: z.record(z.any()).describe('The context from Build agent context'),
      maxChars: z.number().int().min(400).optional().describe('Size budget; default 4000 characters'),
    }),
    output: z.object({ text: z.string() }),
  },
}

export const events = {
  actionsReceived: {
    title: 'Actions received',
    description: 'A verified, de-duplicated batch of UI actions, with its rows ready for AutoPlayEventsTable.',
    schema: z.object({
      batchId: z.string().nullable(),
      userId: z.string().nullable(),
      sessionId: z.string().nullable(),
      productId: z.string(),
      actionCount: z.number(),
      batch: z.record(z.any()).describe('The normalized batch'),
      rows: z.array(eventRow).describe('The batch mapped to AutoPlayEventsTable rows'),
    }),
  },
  triggerFired: {
    title: 'Trigger fired',
    description:
      'The streamer saw friction in a session (back and forth between pages, repeated submits, …): a chance to open the conversation.',
    schema: z.object({
      triggerId: z.string(),
      trigger: z.string().describe('ping_pong, hesitation, dwell, rage_clicks, repeated_submits or flow_abandoned'),
      description: z.string().describe('What the user did, e.g. "went back and forth between /pricing and /checkout 3 times in 40 s"'),
      message: z.string().describe('Suggested opening message'),
      userId: z.string().nullable(),
      sessionId: z.string(),
      productId: z.string(),
      conversationId: z.string().nullable().describe('The Botpress conversation Autoplay linked to the session, if any'),
      signal: z.record(z.any()).describe('The signal with its evidence (pages, elements, count, from, to)'),
    }),
  },
  summaryReceived: {
    title: 'Summary received',
    description: "A connector-side session summary (push mode), as a row for AutoPlayEventsSummaryTable.",
    schema: z.object({
      sessionId: z.string().nullable(),
      productId: z.string(),
      summary: z.string(),
      replaces: z.number(),
    }),
  },
}

export const states = {
  recentBatches: {
    type: 'integration' as const,
    schema: z.object({ ids: z.array(z.string()) }),
  },
}
