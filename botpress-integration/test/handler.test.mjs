// The built integration driven through its real handler: actions and the webhook.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'

import { GUIDE_BODY, NOW, storedEvent } from '../../tests/js/fixtures.mjs'
import { BUNDLE, CONFIG, action, callAction, datedSignature, openIntegration, register, signature, signedPost, triggerBody, webhook } from './harness.mjs'

let api, integration
before(async () => ({ api, integration } = await openIntegration()))
after(() => api.close())

const USER_A = GUIDE_BODY.user_id
const SESSION_A = GUIDE_BODY.session_id

test('the bundle is self-contained: the WASM is inlined, no file is read', () => {
  const bundle = readFileSync(BUNDLE, 'utf8')
  assert.ok(!bundle.includes('_bg.wasm'), 'the bundle refers to a .wasm file')
  assert.ok(!/readFileSync\(/.test(bundle), 'the bundle reads files')
})

test('installing checks the configuration and names what is wrong, never echoing a secret', async () => {
  assert.equal((await register(integration)).status, 200)
  const short = await register(integration, { ...CONFIG, webhookSecret: 'tiny-secret' })
  assert.equal(short.status, 400)
  assert.match(short.body.message, /configuration is not valid: webhookSecret: String must contain at least 16 character/)
  const weakIdentity = await register(integration, { ...CONFIG, identitySecret: 'too-short-to-sign' })
  assert.match(weakIdentity.body.message, /identitySecret: String must contain at least 32 character/)
  const shared = 'one-secret-for-everything-0123456789abcdef'
  const same = await register(integration, { ...CONFIG, webhookSecret: shared, identitySecret: shared })
  assert.equal(same.status, 400)
  assert.match(same.body.message, /identity secret must differ from the webhook secret/)
  for (const answer of [short, weakIdentity, same]) {
    assert.doesNotMatch(JSON.stringify(answer.body), /tiny-secret|too-short-to-sign|one-secret-for-everything/)
  }
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

test('getAgentContext gives the context and its text in one call, for the chatting user only', async () => {
  const recentEvents = [storedEvent(USER_A, SESSION_A, 30), storedEvent('user-b', 'sess-b', 20), storedEvent(USER_A, SESSION_A, 10)]
  const summaryRecords = [
    { session_id: SESSION_A, user_id: USER_A, summary: 'A compares plans.', updatedAt: new Date(NOW).toISOString() },
    { session_id: 'sess-b', user_id: 'user-b', summary: 'B reads the API docs.', updatedAt: new Date(NOW).toISOString() },
  ]
  const { context, text, identity } = await action(integration, 'getAgentContext', { userId: USER_A, now: NOW, recentEvents, summaryRecords })
  assert.deepEqual(identity, { verified: false, reason: null })
  assert.equal(context.summary, 'A compares plans.')
  assert.equal(context.recentEvents.length, 2)
  assert.ok(context.recentEvents.every((e) => e.user_id === USER_A))
  assert.match(text, /A compares plans\./)
  assert.doesNotMatch(text, /user-b|B reads/)
})

test('getAgentContext stays far under the 128 KB workflow state, whatever it is given', async () => {
  const huge = 'x'.repeat(3_800)
  const recentEvents = Array.from({ length: 500 }, (_, i) => ({ ...storedEvent(USER_A, SESSION_A, 100 - i / 10), description: huge }))
  const summaryRecords = [{ session_id: SESSION_A, user_id: USER_A, summary: 'y'.repeat(300_000), updatedAt: new Date(NOW).toISOString() }]
  const { status, body } = await callAction(integration, 'getAgentContext', { userId: USER_A, now: NOW, maxEvents: 500, maxChars: 8000, recentEvents, summaryRecords })
  assert.equal(status, 200)
  const size = Buffer.byteLength(JSON.stringify(body.output))
  assert.ok(size < 64 * 1024, `output is ${size} bytes`)
  const { context, text } = body.output
  assert.ok(context.omittedEvents > 0 && context.omittedEvents + context.recentEvents.length === 500)
  assert.ok(text.length <= 8000)
  console.log(`getAgentContext on 500 rows of 3.8 KB and a 300 KB summary: ${size} bytes of output, ${context.recentEvents.length} actions kept`)
})

test('contextReads scopes by the configured id and reads nothing without one', async () => {
  const scoped = await action(integration, 'contextReads', { userId: USER_A, sessionId: SESSION_A, now: NOW })
  assert.deepEqual(
    scoped.reads.map((r) => [r.table, r.input, r.query.orderBy, r.query.orderDirection, r.query.filter.user_id, r.query.filter.session_id]),
    [['AutoPlaySessionsTable', 'sessionRows', 'updatedAt', 'desc', { $eq: USER_A }, undefined]],
    'the default layout reads one row per session, newest first, by user only'
  )
  const bySession = await action(integration, 'contextReads', { userId: USER_A, sessionId: SESSION_A, now: NOW }, { ...CONFIG, matchUserBy: 'sessionId' })
  assert.deepEqual(bySession.reads[0].query.filter.session_id, { $eq: SESSION_A })
  assert.equal(bySession.reads[0].query.filter.user_id, undefined)

  const events = await action(integration, 'contextReads', { userId: USER_A, now: NOW }, { ...CONFIG, layout: 'events' })
  assert.deepEqual(events.reads.map((r) => [r.table, r.query.orderBy, r.query.orderDirection, r.query.limit]), [
    ['AutoPlayEventsTable', 'createdAt', 'desc', 50],
    ['AutoPlayEventsSummaryTable', 'updatedAt', 'desc', 100],
  ])
  assert.equal(events.reads[0].query.filter.createdAt.$gte, new Date(NOW - 120000).toISOString())

  const nobody = await action(integration, 'contextReads', {})
  assert.deepEqual(nobody.reads, [], 'nothing to read without an id')
  assert.match(nobody.identity.reason, /did not pass a user id/)
})

test('bad action input fails with a message naming the field', async () => {
  const wrongType = await callAction(integration, 'mapActionsToRows', { body: { actions: [{ title: { text: 5 } }] } })
  assert.ok(wrongType.status >= 400, `status ${wrongType.status}`)
  assert.match(wrongType.body.message, /body\.actions\[0\]\.title/)
  const notRows = await callAction(integration, 'getAgentContext', { userId: USER_A, sessionRows: 'rows' })
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

test('an unreadable action is left out of its batch, which is delivered with the others', async () => {
  const good = { ...GUIDE_BODY.actions[0], index: 0 }
  const body = { ...GUIDE_BODY, batch_id: 'batch-one-bad', actions: [good, { ...good, title: { text: 5 } }, 'click', { ...good, index: 5 }] }
  const delivered = await signedPost(integration, body)
  assert.equal(delivered.status, 200, JSON.stringify(delivered.body))
  assert.deepEqual([delivered.body.rows, delivered.body.skipped], [2, 2])
  const event = api.events.at(-1)
  assert.equal(event.payload.batchId, 'batch-one-bad')
  assert.deepEqual(event.payload.rows.map((r) => r.action_index), [0, 5])
})

test('push-mode bodies (undated signature, no batch id) are keyed by content; summaries become events', async () => {
  const raw = JSON.stringify({ type: 'actions', ...GUIDE_BODY, session_id: 'push-session', forwarded_at: Date.now() / 1000 })
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

test('batches with a blank batch_id are keyed by their content, never grouped under the blank id', async () => {
  const first = await signedPost(integration, { ...GUIDE_BODY, batch_id: '', session_id: 'blank-id-1' })
  const second = await signedPost(integration, { ...GUIDE_BODY, batch_id: '', session_id: 'blank-id-2' })
  assert.deepEqual([first.body.event, second.body.event], ['actionsReceived', 'actionsReceived'], JSON.stringify(second.body))
  assert.notEqual(first.body.batchId, second.body.batchId)
  const blankTrigger = await signedPost(integration, triggerBody({ triggerId: ' ', userId: 'u' }))
  assert.equal(blankTrigger.status, 400, JSON.stringify(blankTrigger.body))
  assert.match(blankTrigger.body.error, /trigger_id is blank/)
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
