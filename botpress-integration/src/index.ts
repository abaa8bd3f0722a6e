// The autoplay integration: actions over the WASM core, and the verified webhook.
import * as sdk from '@botpress/sdk'
import * as autoplay from 'autoplay-botpress/inline'

import { core, parseInput } from './errors.js'
import { actions, configuration } from './schemas.js'
import { MATCH_NOTHING, isScoped, pickScope } from './scope.js'
import type { Autoplay } from './types.js'
import { handleWebhook } from './webhook.js'

type Ctx = { configuration: unknown }

const settings = (ctx: Ctx) => configuration.parse(ctx.configuration)

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
      const scope = pickScope(config.matchUserBy, i)
      const scoped = isScoped(scope)
      const windowMs = i.windowMs ?? config.windowMs
      const recent = core(() => autoplay.recentEventsFilter({ ...scope, now: i.now, windowMs }))
      return {
        eventsQuery: {
          filter: scoped ? recent : MATCH_NOTHING,
          limit: config.maxEvents,
          orderBy: 'createdAt',
          orderDirection: 'desc',
        },
        summaryQuery: { filter: scoped ? autoplay.summaryRecordsFilter(scope) : MATCH_NOTHING, limit: 100 },
        scoped,
      }
    },

    buildAgentContext: async ({ input, ctx }) => {
      const i = parseInput('buildAgentContext', actions.buildAgentContext.input, input)
      const config = settings(ctx)
      const context = core(() =>
        autoplay.buildAgentContext({
          ...pickScope(config.matchUserBy, i),
          now: i.now,
          recentEvents: i.recentEvents,
          summaryRecords: i.summaryRecords,
          windowMs: i.windowMs ?? config.windowMs,
          maxEvents: i.maxEvents ?? config.maxEvents,
        })
      )
      return { context }
    },

    renderAgentContext: async ({ input }) => {
      const { context, maxChars } = parseInput('renderAgentContext', actions.renderAgentContext.input, input)
      return { text: core(() => autoplay.renderAgentContext(context as autoplay.AgentContext, { maxChars })) }
    },
  },
})
