// The autoplay integration: actions over the WASM core, and the verified webhook.
import * as sdk from '@botpress/sdk'
import * as autoplay from 'autoplay-botpress/inline'

import { core, parseInput } from './errors.js'
import { actions, configuration } from './schemas.js'
import type { Identity } from './identity.js'
import { keysOf, stores } from './links.js'
import { resolveScope } from './scope.js'
import type { Autoplay } from './types.js'
import { handleWebhook } from './webhook.js'

type Ctx = { configuration: unknown }

/** The tables the streamer writes (its defaults). */
const TABLES = {
  sessions: 'AutoPlaySessionsTable',
  events: 'AutoPlayEventsTable',
  summaries: 'AutoPlayEventsSummaryTable',
}

const settings = (ctx: Ctx) => configuration.parse(ctx.configuration)

/** What the actions report about the identity. */
const shown = (identity: Identity) => ({ verified: identity.verified, reason: identity.reason ?? null })

export default new sdk.Integration<Autoplay>({
  register: async () => {},
  unregister: async () => {},
  channels: {},
  handler: handleWebhook,
  actions: {
    mapActionsToRows: async ({ input }) => {
      const { body, maxRowBytes } = parseInput('mapActionsToRows', actions.mapActionsToRows.input, input)
      return { rows: core(() => autoplay.mapActionsToRows(body, { maxRowBytes })) }
    },

    contextFilters: async ({ input, ctx }) => {
      const i = parseInput('contextFilters', actions.contextFilters.input, input)
      const config = settings(ctx)
      const identity = await resolveScope(config, i)
      const windowMs = i.windowMs ?? config.windowMs
      const queries = core(() =>
        autoplay.contextQueries({ ...identity.scope, now: i.now, windowMs, maxEvents: config.maxEvents })
      )
      const reads = !queries.scoped
        ? []
        : config.layout === 'sessions'
          ? [{ table: TABLES.sessions, input: 'sessionRows' as const, query: queries.sessions }]
          : [
              { table: TABLES.events, input: 'recentEvents' as const, query: queries.events },
              { table: TABLES.summaries, input: 'summaryRecords' as const, query: queries.summaries },
            ]
      return { reads, eventsQuery: queries.events, summaryQuery: queries.summaries, scoped: queries.scoped, identity: shown(identity) }
    },

    buildAgentContext: async ({ input, ctx }) => {
      const i = parseInput('buildAgentContext', actions.buildAgentContext.input, input)
      const config = settings(ctx)
      const identity = await resolveScope(config, i)
      const context = core(() =>
        autoplay.buildAgentContext({
          ...identity.scope,
          now: i.now,
          recentEvents: i.recentEvents,
          summaryRecords: i.summaryRecords,
          sessionRows: i.sessionRows,
          windowMs: i.windowMs ?? config.windowMs,
          maxEvents: i.maxEvents ?? config.maxEvents,
        })
      )
      return { context, identity: shown(identity) }
    },

    linkConversation: async ({ input, ctx, client }) => {
      const i = parseInput('linkConversation', actions.linkConversation.input, input)
      const identity = await resolveScope(settings(ctx), i)
      const keys = keysOf(identity.scope)
      if (keys.length === 0) {
        return { linked: false, identity: shown(identity), pendingNudge: null }
      }
      const now = Date.now()
      const { links, nudges } = stores(client, ctx.integrationId)
      const link = { conversationId: i.conversationId, userId: i.botpressUserId, at: now }
      await links.put(Object.fromEntries(keys.map((key) => [key, link])), now)
      const nudge = await nudges.take(keys, now)
      const pendingNudge = nudge ? (({ at: _, ...rest }) => rest)(nudge) : null
      return { linked: true, identity: shown(identity), pendingNudge }
    },

    renderAgentContext: async ({ input }) => {
      const { context, maxChars } = parseInput('renderAgentContext', actions.renderAgentContext.input, input)
      return { text: core(() => autoplay.renderAgentContext(context as autoplay.AgentContext, { maxChars })) }
    },
  },
})
