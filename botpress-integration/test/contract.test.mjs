// The contract between the Rust core, the package's types and the integration's schemas: real
// outputs — of the built package and of the integration through its handler — are parsed with
// the definitions' schemas in strict mode (no missing field, no unknown one), so a field added,
// renamed or retyped on one side fails here instead of reaching Studio as a silent mismatch.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'

import { GUIDE_BODY, NOW, storedEvent } from '../../tests/js/fixtures.mjs'
import { action, openIntegration, signedPost } from './harness.mjs'

const require = createRequire(import.meta.url)
const core = require('../../pkg')
const limits = require('../../pkg/limits.json')
const { actions, configuration, events } = require('../dist/definitions.cjs')

let api, integration
before(async () => ({ api, integration } = await openIntegration()))
after(() => api.close())

/** Parses `value` with `schema` made strict at the top (nested objects are strict already). */
function conforms(what, schema, value) {
  const result = schema.strict().safeParse(value)
  assert.ok(result.success, `${what}: ${result.success ? '' : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`)
}

const iso = (secondsAgo) => new Date(NOW - secondsAgo * 1000).toISOString()
const page = (index, path, secondsAgo) => ({
  index, type: 'pageview', title: 'Page view', description: `Viewed ${path}`, canonical_url: `https://app.test${path}`, occurred_at: iso(secondsAgo),
})

/** A session row whose actions show back-and-forth (a ping-pong signal) and a stored signal. */
const sessionRow = {
  id: 7, createdAt: iso(600), updatedAt: iso(5),
  session_id: 's-1', user_id: 'u-1', product_id: 'p', summary: 'Compared plans.', action_count: 4,
  actions: [page(0, '/pricing', 40), page(1, '/checkout', 30), page(2, '/pricing', 20), page(3, '/checkout', 10)],
  signals: [{ kind: 'rage_clicks', description: 'clicked "Pay" 5 times in 2 s', evidence: { pages: ['/checkout'], elements: ['Pay'], count: 5, from: iso(12), to: iso(10) } }],
  nudges: [{ id: 'n-1', kind: 'rage_clicks', message: 'Trouble paying?', sent_at: iso(9), outcomes: ['delivered', 'replied'] }],
}

test("the package's AgentContext matches the integration's schema, for either layout", () => {
  const fromSessions = core.buildAgentContext({ userId: 'u-1', now: NOW, sessionRows: [sessionRow] })
  assert.ok(fromSessions.signals.length >= 2, 'the fixture should produce signals')
  assert.ok(fromSessions.signals.some((s) => s.evidence.elements), 'the fixture should produce evidence with elements')
  assert.equal(fromSessions.nudges.length, 1, 'the fixture should produce a nudge already sent')
  conforms('AgentContext (sessions layout)', actions.getAgentContext.output.schema.shape.context, fromSessions)

  const fromEvents = core.buildAgentContext({
    userId: GUIDE_BODY.user_id,
    now: NOW,
    recentEvents: [storedEvent(GUIDE_BODY.user_id, GUIDE_BODY.session_id, 30, { event_key: 'b-1:0' }), storedEvent(GUIDE_BODY.user_id, GUIDE_BODY.session_id, 20)],
    summaryRecords: [{ session_id: GUIDE_BODY.session_id, user_id: GUIDE_BODY.user_id, summary: 'Reading.', updatedAt: iso(1) }],
  })
  conforms('AgentContext (events layout)', actions.getAgentContext.output.schema.shape.context, fromEvents)
  const empty = core.buildAgentContext({})
  conforms('AgentContext (nobody)', actions.getAgentContext.output.schema.shape.context, empty)
})

test("the package's rows match the integration's row schema", () => {
  const rows = core.mapActionsToRows({ ...GUIDE_BODY, actions: [{ ...GUIDE_BODY.actions[0], timestamp_start: NOW / 1000 }] })
  conforms('mapActionsToRows', actions.mapActionsToRows.output.schema, { rows })
})

test("every action's output through the handler matches its output schema", async () => {
  const ids = { userId: 'u-1', now: NOW }
  conforms('mapActionsToRows', actions.mapActionsToRows.output.schema, await action(integration, 'mapActionsToRows', { body: GUIDE_BODY }))
  conforms('contextReads', actions.contextReads.output.schema, await action(integration, 'contextReads', ids))
  conforms('contextReads (nobody)', actions.contextReads.output.schema, await action(integration, 'contextReads', {}))
  conforms('getAgentContext', actions.getAgentContext.output.schema, await action(integration, 'getAgentContext', { ...ids, sessionRows: [sessionRow] }))

  const trigger = {
    type: 'trigger', trigger_id: 'contract-1', trigger: 'ping_pong', session_id: 's-2', user_id: 'u-2', product_id: 'p', message: 'Comparing?',
    fired_at: iso(0), signal: { kind: 'ping_pong', description: 'back and forth', evidence: { pages: ['/a', '/b'], count: 2, from: iso(9), to: iso(1) } },
  }
  assert.equal((await signedPost(integration, trigger)).status, 202)
  const linked = await action(integration, 'linkConversation', { userId: 'u-2', conversationId: 'c-2', botpressUserId: 'bp-2' })
  assert.ok(linked.pendingNudge)
  conforms('linkConversation (with a nudge)', actions.linkConversation.output.schema, linked)
  conforms('linkConversation (nobody)', actions.linkConversation.output.schema, await action(integration, 'linkConversation', { conversationId: 'c', botpressUserId: 'b' }))
})

test("every event's payload matches its schema", async () => {
  await signedPost(integration, { ...GUIDE_BODY, batch_id: 'contract-batch' })
  await action(integration, 'linkConversation', { userId: 'u-3', conversationId: 'c-3', botpressUserId: 'bp-3' })
  await signedPost(integration, {
    type: 'trigger', trigger_id: 'contract-2', trigger: 'dwell', session_id: 's-3', user_id: 'u-3', product_id: 'p', message: 'Need help?',
    fired_at: iso(0), signal: { kind: 'dwell', description: 'stayed on /a', evidence: { pages: ['/a'], count: 1, from: iso(90), to: iso(0) } },
  })
  await signedPost(integration, { type: 'summary', product_id: 'p', session_id: 's-3', summary: 'Browsing.', replaces: 10 })
  for (const type of ['actionsReceived', 'triggerFired', 'summaryReceived']) {
    const created = api.events.findLast((e) => e.type === type)
    assert.ok(created, `no ${type} event was created`)
    conforms(type, events[type].schema, created.payload)
  }
})

test('Studio accepts exactly the context options the core accepts (one set of bounds)', () => {
  const base = { webhookSecret: 's'.repeat(16) }
  const accepts = {
    studio: (field, value) => configuration.safeParse({ ...base, [field]: value }).success,
    core: (field, value) => {
      try {
        core.contextQueries({ userId: 'u', [field]: value })
        return true
      } catch (err) {
        assert.match(err.message, new RegExp(`options\\.${field}: must be between`))
        return false
      }
    },
  }
  for (const field of ['windowMs', 'maxEvents']) {
    const { min, max } = limits[field]
    for (const value of [min - 1, min, max, max + 1]) {
      assert.equal(accepts.studio(field, value), accepts.core(field, value), `${field} = ${value}`)
    }
    const defaults = configuration.parse(base)
    assert.equal(defaults[field], limits[field].default, `${field}'s default`)
  }
})
