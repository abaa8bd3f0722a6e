// Schemas of the integration's configuration, actions and events. Studio shows them as the
// inputs and outputs of each action card; the handlers validate with the same objects.
import { z } from '@botpress/sdk'

export const configuration = z.object({
  webhookSecret: z
    .string()
    .min(16)
    .secret()
    .describe(
      "Shared secret (16+ characters): the streamer's --webhook-secret, or the connector's push-mode secret. Every POST must carry X-Connector-Signature, dated (t=<unix>,v1=<hex HMAC-SHA256 of \"<t>.<body>\">, within 5 minutes) or not (sha256=<hex HMAC-SHA256 of the body>)."
    ),
  identitySecret: z
    .string()
    .min(32)
    .secret()
    .optional()
    .describe(
      "Secret (32+ characters) your backend signs identity tokens with (HS256 JWT: sub = Autoplay user id, sid = session id, optional, exp). When set, a chat reads and links only the ids of a valid token; when empty, the ids the bot passes are trusted as they are."
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
  event_key: z.string().describe('<batch id>:<position>, the key rows are upserted on'),
})

const scope = {
  userId: z.string().optional().describe("The chatting user's Autoplay user_id (from the webchat user data); ignored when identitySecret is set"),
  sessionId: z.string().optional().describe("The chatting user's Autoplay session_id, if the host app passes it; ignored when identitySecret is set"),
  identityToken: z.string().optional().describe("The identity token the host app's backend issued (webchat user data); required when identitySecret is set"),
}

const identity = z
  .object({
    verified: z.boolean().describe('True when a valid identity token vouched for the ids'),
    reason: z.string().nullable().describe('Why nothing was read or linked, e.g. an expired token; null otherwise'),
  })
  .describe('Whose activity this chat may read, and why')

const nudge = z.object({
  triggerId: z.string(),
  trigger: z.string(),
  message: z.string().describe('Suggested opening message'),
  description: z.string().describe('What the user did'),
  sessionId: z.string(),
  productId: z.string(),
})

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
      identity,
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
    output: z.object({ context: agentContext, identity }),
  },
  linkConversation: {
    title: 'Link conversation',
    description:
      "Links this Botpress conversation to the chatting Autoplay user, so the user's proactive nudges arrive here; hands over a nudge that was waiting for them.",
    input: z.object({
      ...scope,
      conversationId: z.string().min(1).describe('The Botpress conversation: event.conversationId'),
      botpressUserId: z.string().min(1).describe('The Botpress user: event.userId'),
    }),
    output: z.object({
      linked: z.boolean(),
      identity,
      pendingNudge: nudge.nullable().describe('A nudge fired while the user had no conversation (handed out once), or null'),
    }),
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
      "The streamer saw friction in a session (back and forth between pages, repeated submits, …). Created in the user's linked conversation, so a Text card in its workflow reaches their webchat; a user with no linked conversation gets the nudge when one links (Link conversation).",
    schema: z.object({
      triggerId: z.string(),
      trigger: z.string().describe('ping_pong, hesitation, dwell, rage_clicks, repeated_submits or flow_abandoned'),
      description: z.string().describe('What the user did, e.g. "went back and forth between /pricing and /checkout 3 times in 40 s"'),
      message: z.string().describe('Suggested opening message'),
      userId: z.string().nullable(),
      sessionId: z.string(),
      productId: z.string(),
      conversationId: z.string().describe("The user's linked Botpress conversation: the event is created in it"),
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

/** A map with one key per entry, each stamped with its time (see keyed-state.ts). */
const keyed = <T extends z.ZodRawShape>(entry: T) => z.object({}).catchall(z.object({ at: z.number(), ...entry }).nullable())

export const states = {
  links: {
    type: 'integration' as const,
    schema: keyed({ conversationId: z.string(), userId: z.string() }),
  },
  nudges: {
    type: 'integration' as const,
    schema: keyed(nudge.shape),
  },
  seen: {
    type: 'integration' as const,
    schema: keyed({}),
  },
}
