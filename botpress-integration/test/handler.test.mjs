// The built integration driven through its real handler: actions and the webhook.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'

import { GUIDE_BODY, NOW, storedEvent } from '../../tests/js/fixtures.mjs'
import { CONFIG, action, callAction, datedSignature, loadIntegration, signature, signedPost, startBotpressApi, webhook } from './harness.mjs'

let api, integration
before(async () => {
  api = await startBotpressApi()
  integration = loadIntegration(api)
})
after(() => api.close())

const USER_A = GUIDE_BODY.user_id
const SESSION_A = GUIDE_BODY.session_id

test('the bundle is self-contained: the WASM is inlined, no file is read', () => {
  const bundle = readFileSync(new URL('../dist/index.cjs', import.meta.url), 'utf8')
  assert.ok(!bundle.includes('_bg.wasm'), 'the bundle refers to a .wasm file')
  assert.ok(!/readFileSync\(/.test(bundle), 'the bundle reads files')
})

test('mapActionsToRows maps the guide sample', async () => {
  const { rows } = await action(integration, 'mapActionsToRows', { body: GUIDE_BODY })
  assert.equal(rows.length, 1)
  assert.equal(rows[0].title, 'Click element')
  assert.equal(rows[0].description, 'User clicked element on the pricing page')
  assert.equal(rows[0].canonical_url, 'https://yourapp.com/pricing')
  assert.equal(rows[0].user_id, USER_A)
  assert.equal(rows[0].session_id, SESSION_A)
})

test('buildAgentContext and renderAgentContext keep only the chatting user', async () => {
  const recentEvents = [storedEvent(USER_A, SESSION_A, 30), storedEvent('user-b', 'sess-b', 20), storedEvent(USER_A, SESSION_A, 10)]
  const summaryRecords = [
    { session_id: SESSION_A, user_id: USER_A, summary: 'A compares plans.', updatedAt: new Date(NOW).toISOString() },
    { session_id: 'sess-b', user_id: 'user-b', summary: 'B reads the API docs.', updatedAt: new Date(NOW).toISOString() },
  ]
  const { context } = await action(integration, 'buildAgentContext', { userId: USER_A, now: NOW, recentEvents, summaryRecords })
  assert.equal(context.summary, 'A compares plans.')
  assert.equal(context.recentEvents.length, 2)
  assert.ok(context.recentEvents.every((e) => e.user_id === USER_A))
  const { text } = await action(integration, 'renderAgentContext', { context })
  assert.match(text, /A compares plans\./)
  assert.doesNotMatch(text, /user-b|B reads/)
})

test('contextFilters scopes by the configured id and matches nothing without one', async () => {
  const scoped = await action(integration, 'contextFilters', { userId: USER_A, sessionId: SESSION_A, now: NOW })
  assert.equal(scoped.scoped, true)
  assert.deepEqual(scoped.eventsQuery.filter.user_id, { $eq: USER_A })
  assert.equal(scoped.eventsQuery.filter.session_id, undefined, 'matchUserBy=userId ignores the session')
  assert.equal(scoped.eventsQuery.filter.createdAt.$gte, new Date(NOW - 120000).toISOString())
  assert.equal(scoped.eventsQuery.limit, 50)

  const bySession = await action(integration, 'contextFilters', { userId: USER_A, sessionId: SESSION_A, now: NOW }, { ...CONFIG, matchUserBy: 'sessionId' })
  assert.deepEqual(bySession.eventsQuery.filter.session_id, { $eq: SESSION_A })
  assert.equal(bySession.eventsQuery.filter.user_id, undefined)

  assert.deepEqual(
    scoped.reads.map((r) => [r.table, r.input, r.query.orderBy, r.query.orderDirection]),
    [['AutoPlaySessionsTable', 'sessionRows', 'updatedAt', 'desc']],
    'the default layout reads one row per session, newest first'
  )
  const events = await action(integration, 'contextFilters', { userId: USER_A, now: NOW }, { ...CONFIG, layout: 'events' })
  assert.deepEqual(events.reads.map((r) => r.table), ['AutoPlayEventsTable', 'AutoPlayEventsSummaryTable'])

  const nobody = await action(integration, 'contextFilters', {})
  assert.deepEqual(nobody.reads, [], 'nothing to read without an id')
  assert.equal(nobody.scoped, false)
  assert.deepEqual(nobody.eventsQuery.filter, { id: { $lt: 0 } })
  assert.deepEqual(nobody.summaryQuery.filter, { id: { $lt: 0 } })
})

test('bad action input fails with a message naming the field', async () => {
  const wrongType = await callAction(integration, 'mapActionsToRows', { body: { actions: [{ title: 5 }] } })
  assert.ok(wrongType.status >= 400, `status ${wrongType.status}`)
  assert.match(wrongType.body.message, /body\.actions\[0\]\.title/)
  const notRows = await callAction(integration, 'buildAgentContext', { userId: USER_A, sessionRows: 'rows' })
  assert.ok(notRows.status >= 400)
  assert.match(notRows.body.message, /sessionRows/)
})

test('a signed batch becomes one actionsReceived event with its rows; a re-delivery is dropped', async () => {
  const before = api.events.length
  const body = { ...GUIDE_BODY, batch_id: 'batch-guide-1' }
  const first = await signedPost(integration, body)
  assert.equal(first.status, 200, JSON.stringify(first.body))
  assert.equal(first.body.event, 'actionsReceived')
  const event = api.events.at(-1)
  assert.equal(event.type, 'actionsReceived')
  assert.equal(event.payload.batchId, 'batch-guide-1')
  assert.equal(event.payload.userId, USER_A)
  assert.equal(event.payload.rows[0].description, 'User clicked element on the pricing page')

  const again = await signedPost(integration, body)
  assert.equal(again.status, 200)
  assert.equal(again.body.duplicate, true)
  assert.equal(api.events.length, before + 1, 'the duplicate produced an event')
})

test('push-mode bodies (undated signature, no batch id) are keyed by content; summaries become events', async () => {
  const raw = JSON.stringify({ type: 'actions', ...GUIDE_BODY, session_id: 'push-session' })
  const push = () => webhook(integration, { raw, headers: { 'X-Connector-Signature': signature(raw) } })
  const first = await push()
  assert.equal(first.body.event, 'actionsReceived', JSON.stringify(first.body))
  const rows = api.events.at(-1).payload.rows
  assert.match(rows[0].event_key, /^[0-9a-f]{32}:0$/, 'rows of a body without an id are keyed by its content')
  assert.equal((await push()).body.duplicate, true)

  const summary = await signedPost(integration, { type: 'summary', product_id: 'p', session_id: 'push-session', summary: 'Browsing plans.', replaces: 10 })
  assert.equal(summary.status, 200)
  assert.deepEqual(api.events.at(-1).payload, { sessionId: 'push-session', productId: 'p', summary: 'Browsing plans.', replaces: 10 })
})

test('a missing or wrong signature gets 401 and no event', async () => {
  const before = api.events.length
  const raw = JSON.stringify(GUIDE_BODY)
  const missing = await webhook(integration, { raw })
  assert.equal(missing.status, 401)
  assert.match(missing.body.error, /X-Connector-Signature/)
  const wrong = await webhook(integration, { raw, headers: { 'x-connector-signature': signature(raw, 'another-secret-abcdef') } })
  assert.equal(wrong.status, 401)
  const tampered = await webhook(integration, { raw: raw.replace('pricing', 'billing'), headers: { 'x-connector-signature': signature(raw) } })
  assert.equal(tampered.status, 401)
  const garbled = await webhook(integration, { raw, headers: { 'x-connector-signature': 't=soon,v1=abc' } })
  assert.equal(garbled.status, 401)
  assert.match(garbled.body.error, /neither t=<unix>,v1=<hex> nor sha256=<hex>/)
  assert.equal(api.events.length, before)
})

test('a dated signature is accepted within 5 minutes of now, either way, and refused beyond', async () => {
  const now = Math.floor(Date.now() / 1000)
  const post = (t, id) => {
    const raw = JSON.stringify({ ...GUIDE_BODY, batch_id: id })
    return webhook(integration, { raw, headers: { 'X-Connector-Signature': datedSignature(raw, t) } })
  }
  assert.equal((await post(now - 240, 'dated-4-min-old')).status, 200)
  assert.equal((await post(now + 240, 'dated-4-min-ahead')).status, 200, 'a sender clock a little ahead is fine')
  const before = api.events.length
  const replayed = await post(now - 360, 'dated-6-min-old')
  assert.equal(replayed.status, 401)
  assert.match(replayed.body.error, /more than 300 s from now/)
  assert.equal((await post(now + 360, 'dated-6-min-ahead')).status, 401)
  assert.equal(api.events.length, before, 'a refused request made an event')
})

test('personal data in a pushed batch is redacted before it becomes an event', async () => {
  const body = {
    ...GUIDE_BODY,
    batch_id: 'batch-pii',
    actions: [{ title: 'Typed in field', description: 'Entered jane.doe@example.com and 4111 1111 1111 1111', canonical_url: 'https://yourapp.com/checkout?email=jane.doe@example.com' }],
  }
  assert.equal((await signedPost(integration, body)).status, 200)
  const event = api.events.at(-1)
  const text = JSON.stringify(event.payload)
  assert.doesNotMatch(text, /jane\.doe|4111 1111/)
  assert.equal(event.payload.rows[0].description, 'Entered [email] and [card]')
  assert.equal(event.payload.rows[0].canonical_url, 'https://yourapp.com/checkout?[query]')
})

test('malformed bodies get 400 with the reason; other methods 405', async () => {
  const notJson = await signedPost(integration, '{"actions": [')
  assert.equal(notJson.status, 400)
  assert.match(notJson.body.error, /not valid JSON/)
  const wrongShape = await signedPost(integration, { session_id: 's', actions: 'click' })
  assert.equal(wrongShape.status, 400)
  assert.match(wrongShape.body.error, /body\.actions/)
  const notObject = await signedPost(integration, '[1,2]')
  assert.equal(notObject.status, 400)
  const get = await webhook(integration, { method: 'GET' })
  assert.equal(get.status, 405)
  const ignored = await signedPost(integration, { type: 'something_new' })
  assert.equal(ignored.status, 202)
})
