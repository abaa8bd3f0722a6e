// The ready-to-paste code nodes run in a stand-in for an Execute Code card: the globals
// `event`, `workflow`, `actions` (the integration's actions through its real handler) and the
// two tables, backed by memory with Botpress's filter operators.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'

import { GUIDE_BODY } from '../../tests/js/fixtures.mjs'
import { CONFIG, action, openIntegration, signedPost } from './harness.mjs'

const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor
const node = (name) => readFileSync(new URL(`../code-nodes/${name}`, import.meta.url), 'utf8')

/** A Botpress table in memory: create, upsert on a key column, find with $eq, $gte, $lt, $and. */
class Table {
  rows = []
  async createRecords(rows) {
    const createdAt = new Date().toISOString()
    for (const row of rows) this.rows.push({ id: this.rows.length + 1, createdAt, updatedAt: createdAt, ...row })
    return this.rows.slice(-rows.length)
  }
  async upsertRecords(rows, keyColumn) {
    if (rows.length < 1 || rows.length > 1000) throw new Error(`upsert takes 1 to 1000 rows, got ${rows.length}`)
    for (const row of rows) {
      const existing = this.rows.find((r) => r[keyColumn] === row[keyColumn])
      if (existing) Object.assign(existing, row, { updatedAt: new Date().toISOString() })
      else await this.createRecords([row])
    }
  }
  async findRecords({ filter = {}, limit = 100, orderBy = 'id', orderDirection = 'asc' } = {}) {
    const found = this.rows.filter((row) => matches(row, filter))
    found.sort((a, b) => (a[orderBy] < b[orderBy] ? -1 : a[orderBy] > b[orderBy] ? 1 : 0) * (orderDirection === 'desc' ? -1 : 1))
    return found.slice(0, limit)
  }
}

function matches(row, filter) {
  return Object.entries(filter).every(([key, condition]) => {
    if (key === '$and') return condition.every((f) => matches(row, f))
    if (key === '$or') return condition.some((f) => matches(row, f))
    return Object.entries(condition).every(([op, value]) => {
      const v = row[key]
      switch (op) {
        case '$eq': return v === value
        case '$gte': return v >= value
        case '$lt': return v < value
        case '$gt': return v > value
        default: throw new Error(`the stand-in table does not know ${op}`)
      }
    })
  })
}

let api, integration
before(async () => ({ api, integration } = await openIntegration()))
after(() => api.close())

function card(code, globals) {
  const names = Object.keys(globals)
  return new AsyncFunction(...names, code)(...names.map((n) => globals[n]))
}

const EVENTS_LAYOUT = { ...CONFIG, layout: 'events' }

const actions = (configuration = CONFIG) => ({
  autoplay: new Proxy({}, { get: (_, type) => (input) => action(integration, type, input, configuration) }),
})

/** The card's `client` global: findTableRows and upsertTableRows over the named tables. */
function client(tables) {
  const reads = []
  return {
    reads,
    async findTableRows({ table, ...query }) {
      reads.push({ table, ...query })
      return { rows: await tables[table].findRecords(query) }
    },
    async upsertTableRows({ table, rows, keyColumn = 'id' }) {
      await tables[table].upsertRecords(rows, keyColumn)
      return { inserted: [], updated: [], errors: [] }
    },
  }
}

const USER_A = GUIDE_BODY.user_id
const USER_B = '019dd835-9b21-4c0d'

test('StoreEventsData stores the rows of a webhook batch; FetchEventsData gives A only A', async () => {
  const events = new Table()
  const summaries = new Table()

  // Two users' batches arrive through the integration's webhook; each event runs StoreEventsData.
  const bodies = [
    { ...GUIDE_BODY, batch_id: 'a-1' },
    { session_id: 'sess-b', user_id: USER_B, product_id: 'prod_42', batch_id: 'b-1', actions: [{ title: 'Click element', description: 'Copied the API key', canonical_url: 'https://yourapp.com/docs/api' }] },
    { ...GUIDE_BODY, batch_id: 'a-2', actions: [{ title: 'Page view', description: 'Viewed Checkout', canonical_url: 'https://yourapp.com/checkout', type: 'pageview', index: 1 }] },
  ]
  for (const body of bodies) {
    assert.equal((await signedPost(integration, body)).status, 200)
    const event = { type: 'autoplay:actionsReceived', payload: api.events.at(-1).payload }
    const workflow = {}
    await card(node('StoreEventsData.js'), { event, workflow, actions: actions(), client: client({ AutoPlayEventsTable: events }) })
    assert.equal(workflow.storedActions, body.actions.length)
  }
  assert.equal(events.rows.length, 3)

  // The streamer keeps one summary row per session.
  await summaries.createRecords([
    { session_id: GUIDE_BODY.session_id, user_id: USER_A, product_id: 'prod_42', summary: 'A compared plans, then went to checkout.', action_count: 10 },
    { session_id: 'sess-b', user_id: USER_B, product_id: 'prod_42', summary: 'B is setting up the API.', action_count: 10 },
  ])

  const workflow = { autoplayUserId: USER_A }
  const bp = client({ AutoPlayEventsTable: events, AutoPlayEventsSummaryTable: summaries })
  await card(node('FetchEventsData.js'), { event: {}, workflow, actions: actions(EVENTS_LAYOUT), client: bp })
  assert.deepEqual(bp.reads.map((r) => [r.table, r.orderBy, r.orderDirection]), [
    ['AutoPlayEventsTable', 'createdAt', 'desc'],
    ['AutoPlayEventsSummaryTable', 'updatedAt', 'desc'],
  ])
  const { autoplayContext: context, autoplayPrompt: prompt } = workflow
  assert.equal(context.summary, 'A compared plans, then went to checkout.')
  assert.deepEqual(context.recentEvents.map((e) => e.description), ['User clicked element on the pricing page', 'Viewed Checkout'])
  for (const text of [JSON.stringify(context), prompt]) {
    assert.doesNotMatch(text, /API key|setting up the API|9b21/, "B's activity reached A's context")
  }
  assert.match(prompt, /<user_activity>/)
  assert.match(prompt, /Viewed Checkout/)
})

test('StoreEventsData also works behind the generic Webhook integration', async () => {
  const events = new Table()
  const event = { type: 'webhook:event', payload: { body: GUIDE_BODY } }
  const bp = client({ AutoPlayEventsTable: events })
  await card(node('StoreEventsData.js'), { event, workflow: {}, actions: actions(), client: bp })
  await card(node('StoreEventsData.js'), { event, workflow: {}, actions: actions(), client: bp })
  assert.equal(events.rows.length, 1, 'the same body delivered twice made two rows')
  assert.equal(events.rows[0].user_id, USER_A)
})

test('20 concurrent deliveries of 20 batches, then all 20 again: exactly one row per action', async () => {
  const events = new Table()
  const bp = client({ AutoPlayEventsTable: events })
  const store = async (payload) => card(node('StoreEventsData.js'), { event: { payload }, workflow: {}, actions: actions(), client: bp })
  const batches = Array.from({ length: 20 }, (_, b) => ({
    session_id: `sess-${b % 4}`, user_id: `user-${b % 4}`, product_id: 'prod_42', batch_id: `conc-${b}`,
    actions: Array.from({ length: 1 + (b % 5) }, (_, i) => ({ title: 'Click', description: `batch ${b} action ${i}`, canonical_url: 'https://yourapp.com/x', index: i })),
  }))
  const expected = batches.reduce((n, b) => n + b.actions.length, 0)

  const deliver = () => Promise.all(batches.map(async (body) => {
    const response = await signedPost(integration, body)
    assert.equal(response.status, 200, JSON.stringify(response.body))
    // Botpress runs the workflow once per event; a duplicate makes no event.
    if (response.body.event) await store(api.events.findLast((e) => e.payload.batchId === body.batch_id).payload)
    return response.body
  }))
  const first = await deliver()
  assert.equal(first.filter((r) => r.event).length, 20)
  const seen = api.states.get('integration/int-1/seen')
  assert.equal(batches.filter((b) => seen[`batch:${b.batch_id}`]).length, 20, 'concurrent writers lost de-dup ids')

  const second = await deliver()
  assert.equal(second.filter((r) => r.duplicate).length, 20, 'a re-delivery made a new event')
  // Even a duplicate that slips past (two deliveries racing) cannot add rows: storage upserts.
  for (const body of batches.slice(0, 5)) await store(api.events.findLast((e) => e.payload.batchId === body.batch_id).payload)

  assert.equal(events.rows.length, expected)
  assert.equal(new Set(events.rows.map((r) => r.event_key)).size, expected)
})

test('StoreEventsData upserts a batch of more than 1000 rows in calls of at most 1000', async () => {
  const events = new Table()
  const actionsList = Array.from({ length: 2500 }, (_, i) => ({ title: 'Click', description: `a${i}`, canonical_url: 'https://yourapp.com/x', index: i }))
  const body = { session_id: 's', user_id: 'u', product_id: 'p', batch_id: 'big', actions: actionsList }
  await card(node('StoreEventsData.js'), { event: { payload: { body } }, workflow: {}, actions: actions(), client: client({ AutoPlayEventsTable: events }) })
  assert.equal(events.rows.length, 2500)
})

test('LinkConversation links the chat and ProactiveTrigger then runs in it with the nudge', async () => {
  const main = {
    type: 'message', conversationId: 'conv-main', userId: 'bp-user-a', payload: { text: 'hi' },
  }
  // What the "Get User Data" card stores, as Botpress documents it: `{ userData }`, the data the
  // page passed with updateUser. The integration as `bp deploy` names it: `<handle>/autoplay`.
  const workflow = { webchatUser: { userData: { autoplayUserId: USER_A } } }
  const deployed = { 'acme/autoplay': actions().autoplay }
  await card(node('LinkConversation.js'), { event: main, workflow, actions: deployed })
  assert.equal(workflow.autoplayUserId, USER_A, 'the user data was not copied')
  assert.equal(workflow.autoplayLinked, true)
  assert.equal(workflow.nudgeMessage, '', 'a nudge appeared from nowhere')

  const trigger = {
    type: 'trigger', trigger_id: 't-1', trigger: 'repeated_submits', session_id: 'sess-1', user_id: USER_A, product_id: 'p',
    message: 'Having trouble with this form?', fired_at: '2026-11-24T12:00:00.000Z',
    signal: { kind: 'repeated_submits', description: 'submitted the form on /checkout twice in 10 s without moving on', evidence: { pages: ['/checkout'], count: 2, from: 'a', to: 'b' } },
  }
  assert.equal((await signedPost(integration, trigger)).status, 200)
  const created = api.events.at(-1)
  assert.equal(created.conversationId, 'conv-main', "the nudge's workflow would not run in the user's chat")
  const event = { type: 'autoplay:triggerFired', conversationId: created.conversationId, payload: created.payload }
  const nudged = {}
  await card(node('ProactiveTrigger.js'), { event, workflow: nudged, actions: actions() })
  assert.equal(nudged.nudgeMessage, 'Having trouble with this form?')
  assert.equal(nudged.nudgeReason, 'submitted the form on /checkout twice in 10 s without moving on')
  assert.equal(nudged.autoplayUserId, USER_A)
})

test('a card in a bot without the integration says so', async () => {
  await assert.rejects(
    card(node('LinkConversation.js'), { event: { conversationId: 'c', userId: 'u' }, workflow: {}, actions: { webchat: {} } }),
    /autoplay integration is not installed/,
  )
})

test('LinkConversation hands over a nudge that fired before the user opened the chat', async () => {
  const trigger = {
    type: 'trigger', trigger_id: 't-late', trigger: 'hesitation', session_id: 'sess-late', user_id: 'user-late', product_id: 'p',
    message: 'Stuck on pricing?', fired_at: '2026-11-24T12:00:00.000Z',
    signal: { kind: 'hesitation', description: 'hovered over the plans for 40 s', evidence: { pages: ['/pricing'], count: 1, from: 'a', to: 'b' } },
  }
  assert.equal((await signedPost(integration, trigger)).status, 202)
  const workflow = { autoplayUserId: 'user-late' }
  await card(node('LinkConversation.js'), { event: { conversationId: 'conv-late', userId: 'bp-late' }, workflow, actions: actions() })
  assert.equal(workflow.nudgeMessage, 'Stuck on pricing?')
  assert.equal(workflow.nudgeReason, 'hovered over the plans for 40 s')
})

test('FetchEventsData reads one row per session (the default layout) and gives A only A', async () => {
  const sessions = new Table()
  const row = (session, user, summary, descriptions) => ({
    session_id: session, user_id: user, product_id: 'prod_42', summary, action_count: 12, signals: [],
    actions: descriptions.map((description, i) => ({
      index: 10 + i, type: 'click', title: 'Click', description, canonical_url: 'https://yourapp.com/pricing',
      occurred_at: new Date(Date.now() - (30 - i) * 1000).toISOString(),
    })),
  })
  await sessions.createRecords([
    row(GUIDE_BODY.session_id, USER_A, 'A compared plans.', ['Opened pricing', 'Picked annual billing']),
    row('sess-b', USER_B, 'B is setting up the API.', ['Copied the API key']),
  ])
  const workflow = { autoplayUserId: USER_A }
  const bp = client({ AutoPlaySessionsTable: sessions })
  await card(node('FetchEventsData.js'), { event: {}, workflow, actions: actions(), client: bp })
  assert.deepEqual(bp.reads.map((r) => [r.table, r.filter.user_id, r.orderBy, r.orderDirection]), [
    ['AutoPlaySessionsTable', { $eq: USER_A }, 'updatedAt', 'desc'],
  ])
  const { autoplayContext: context, autoplayPrompt: prompt } = workflow
  assert.equal(context.summary, 'A compared plans.')
  assert.deepEqual(context.recentEvents.map((e) => e.description), ['Opened pricing', 'Picked annual billing'])
  for (const text of [JSON.stringify(context), prompt]) {
    assert.doesNotMatch(text, /API key|setting up the API|9b21/, "B's activity reached A's context")
  }
})

test('FetchEventsData without an id reads nothing and gives an empty context', async () => {
  const sessions = new Table()
  await sessions.createRecords([{ session_id: 's', user_id: USER_A, summary: 'x', actions: [] }])
  const workflow = {}
  const bp = client({ AutoPlaySessionsTable: sessions })
  await card(node('FetchEventsData.js'), { event: {}, workflow, actions: actions(), client: bp })
  assert.equal(bp.reads.length, 0, 'no table read without an id')
  assert.equal(workflow.autoplayContext.recentEvents.length, 0)
  assert.equal(workflow.autoplayContext.summary, null)
})

test('FetchEventsData makes one integration call per chat turn once the chat is identified', async () => {
  const sessions = new Table()
  await sessions.createRecords([{ session_id: 's', user_id: USER_A, summary: 'A is here.', action_count: 0, actions: [], signals: [] }])
  const calls = []
  const counting = {
    autoplay: new Proxy({}, { get: (_, type) => (input) => (calls.push(type), action(integration, type, input)) }),
  }
  const workflow = { autoplayUserId: USER_A }
  const bp = client({ AutoPlaySessionsTable: sessions })
  for (let turn = 0; turn < 3; turn += 1) {
    await card(node('FetchEventsData.js'), { event: {}, workflow, actions: counting, client: bp })
    assert.equal(workflow.autoplayContext.summary, 'A is here.')
  }
  assert.deepEqual(calls, ['contextReads', 'getAgentContext', 'getAgentContext', 'getAgentContext'])
  assert.equal(bp.reads.length, 3, 'one table read per turn')
})
