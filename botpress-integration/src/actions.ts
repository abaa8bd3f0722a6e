// The action handlers: thin layers over the WebAssembly core, with the chat's identity resolved
// first wherever activity is read or linked.
import * as autoplay from 'autoplay-botpress/inline'

import { MAX_CONTEXT_BYTES, actions as definitions, configuration } from '../definitions/index.js'
import { core, parseInput } from './errors.js'
import { matchKey, stores } from './links.js'
import { type Identity, resolveScope } from './scope.js'
import type * as bp from '.botpress'

const settings = (ctx: bp.Context) => configuration.parse(ctx.configuration)

/** What the actions report about the identity. */
const shown = (identity: Identity) => ({ verified: identity.verified, reason: identity.reason ?? null })

export const actions: bp.IntegrationProps['actions'] = {
  mapActionsToRows: async ({ input }) => {
    const { body, maxRowBytes } = parseInput('mapActionsToRows', definitions.mapActionsToRows.input.schema, input)
    return { rows: core(() => autoplay.mapActionsToRows(body, { maxRowBytes })) }
  },

  contextReads: async ({ input, ctx }) => {
    const i = parseInput('contextReads', definitions.contextReads.input.schema, input)
    const config = settings(ctx)
    const identity = await resolveScope(config, i)
    const { reads } = core(() =>
      autoplay.contextQueries({
        ...identity.scope,
        now: i.now,
        windowMs: config.windowMs,
        maxEvents: config.maxEvents,
        layout: config.layout,
      })
    )
    return { reads, identity: shown(identity) }
  },

  getAgentContext: async ({ input, ctx }) => {
    const i = parseInput('getAgentContext', definitions.getAgentContext.input.schema, input)
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
        maxBytes: MAX_CONTEXT_BYTES,
      })
    )
    const text = core(() => autoplay.renderAgentContext(context, { maxChars: i.maxChars }))
    return { context, text, identity: shown(identity) }
  },

  linkConversation: async ({ input, ctx, client }) => {
    const i = parseInput('linkConversation', definitions.linkConversation.input.schema, input)
    const config = settings(ctx)
    const identity = await resolveScope(config, i)
    const key = matchKey(config.matchUserBy, identity.ids)
    if (identity.reason || !key) {
      return { linked: false, identity: shown(identity), pendingNudge: null }
    }
    const now = Date.now()
    const { links, nudges } = stores(client, ctx.integrationId)
    await links.put({ [key]: { conversationId: i.conversationId, userId: i.botpressUserId, at: now } }, now)
    const nudge = await nudges.take([key], now)
    const pendingNudge = nudge ? (({ at: _, ...rest }) => rest)(nudge) : null
    return { linked: true, identity: shown(identity), pendingNudge }
  },
}
