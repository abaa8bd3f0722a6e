// A captured delivery cannot be replayed: whatever headers ride along, however much traffic comes
// between, for as long as its signature is accepted. Driven through the real handler.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'

import { GUIDE_BODY } from '../../tests/js/fixtures.mjs'
import { STATE_LIMIT_BYTES, action, datedSignature, openIntegration, signature, signedPost, triggerBody, webhook } from './harness.mjs'

let api, integration
before(async () => ({ api, integration } = await openIntegration()))
after(() => api.close())

const nowSeconds = () => Date.now() / 1000
/** A push-mode body as the connector sends it: the date is inside, the signature undated. */
const pushBody = (extra = {}) => JSON.stringify({ type: 'actions', ...GUIDE_BODY, forwarded_at: nowSeconds(), ...extra })
const push = (raw, headers = {}) => webhook(integration, { raw, headers: { 'X-Connector-Signature': signature(raw), ...headers } })
const replayState = () => api.states.get('integration/int-1/replays') ?? {}

test('a push-mode body replayed with other Idempotency-Key headers is accepted once', async () => {
  const raw = pushBody({ session_id: 'replayed-push' })
  const before = api.events.length
  const answers = []
  for (let i = 1; i <= 5; i += 1) answers.push(await push(raw, { 'Idempotency-Key': `key-${i}` }))
  const accepted = answers.filter((a) => a.body.event === 'actionsReceived').length
  console.log(`one push-mode body sent with 5 Idempotency-Key values: ${accepted} accepted, ${api.events.length - before} events`)
  assert.equal(accepted, 1)
  assert.deepEqual(answers.slice(1).map((a) => [a.status, a.body.duplicate]), Array(4).fill([200, true]))
  assert.equal(api.events.length, before + 1, 'a replay was billed as an event')
})

test('a push-mode body must carry its date (forwarded_at) within 5 minutes, or it is refused', async () => {
  const before = api.events.length
  const undated = await push(JSON.stringify({ type: 'actions', ...GUIDE_BODY, session_id: 'undated-push' }))
  assert.equal(undated.status, 401)
  assert.match(undated.body.error, /forwarded_at/)
  const stale = await push(pushBody({ session_id: 'stale-push', forwarded_at: nowSeconds() - 600 }))
  assert.equal(stale.status, 401)
  assert.match(stale.body.error, /more than 300 s from now/)
  const summary = JSON.stringify({ type: 'summary', product_id: 'p', session_id: 's', summary: 'Browsing.', replaces: 10 })
  assert.equal((await push(summary)).status, 401, 'an undated summary was accepted')
  assert.equal(api.events.length, before, 'a refused body made an event')
  assert.equal((await push(pushBody({ session_id: 'fresh-push' }))).body.event, 'actionsReceived')
})

test('a dated trigger replayed after 600 other deliveries does not fire again', async () => {
  await action(integration, 'linkConversation', { userId: 'replay-victim', conversationId: 'conv-victim', botpressUserId: 'bp-victim' })
  const raw = JSON.stringify(triggerBody({ triggerId: 'sess-rv:ping_pong:1', userId: 'replay-victim' }))
  const captured = { raw, headers: { 'X-Connector-Signature': datedSignature(raw) } }
  assert.equal((await webhook(integration, captured)).body.event, 'triggerFired')
  for (let i = 0; i < 600; i += 1) {
    assert.equal((await signedPost(integration, { ...GUIDE_BODY, batch_id: `traffic-${i}` })).status, 200)
  }
  const replay = await webhook(integration, captured)
  const fired = api.events.filter((e) => e.type === 'triggerFired' && e.payload.triggerId === 'sess-rv:ping_pong:1').length
  console.log(`a dated trigger replayed after 600 deliveries: answered ${replay.status} ${JSON.stringify(replay.body)}, fired ${fired} time(s)`)
  assert.equal(replay.body.duplicate, true)
  assert.equal(fired, 1, 'the replayed trigger nudged twice')
  const bytes = Buffer.byteLength(JSON.stringify(replayState()))
  console.log(`replay guard after ${Object.keys(replayState()).length} deliveries: ${bytes} bytes`)
})

test('a delivery that failed to take effect is not remembered: its retry with the same body goes through', async () => {
  const raw = pushBody({ session_id: 'failed-once' })
  api.failEvents = 1
  const failed = await push(raw)
  assert.ok(failed.status >= 400 && !failed.body?.event, `status ${failed.status}`)
  const retried = await push(raw)
  assert.equal(retried.body.event, 'actionsReceived', JSON.stringify(retried.body))
})

/** Fills the replay guard up to `bytes` of JSON with entries expiring at `expiresAt` (unix seconds). */
function fillReplayState(bytes, expiresAt) {
  const entries = { ...replayState() }
  let size = Buffer.byteLength(JSON.stringify(entries))
  for (let i = 0; ; i += 1) {
    const key = `prior-${i}`.padStart(16, '-')
    const more = Buffer.byteLength(`,"${key}":${expiresAt}`)
    if (size + more > bytes) break
    entries[key] = expiresAt
    size += more
  }
  api.states.set('integration/int-1/replays', entries)
}

test('when the guard is full of deliveries still within their window, new ones wait (503): none is forgotten', async () => {
  const raw = pushBody({ session_id: 'remembered-push' })
  assert.equal((await push(raw)).body.event, 'actionsReceived')
  fillReplayState(STATE_LIMIT_BYTES - 100, Math.floor(nowSeconds()) + 200)
  const before = api.events.length
  const waiting = await push(pushBody({ session_id: 'waits' }))
  assert.equal(waiting.status, 503, JSON.stringify(waiting.body))
  assert.match(waiting.body.error, /retry/)
  assert.ok(Number(waiting.headers['retry-after']) > 0, 'no Retry-After')
  assert.equal((await push(raw)).body.duplicate, true, 'a full guard forgot a delivery still within its window')
  assert.equal(api.events.length, before)
  assert.ok(Buffer.byteLength(JSON.stringify(replayState())) <= STATE_LIMIT_BYTES)
})

test('entries whose window has passed make room: the guard is compacted before it is written', async () => {
  api.states.set('integration/int-1/replays', {})
  fillReplayState(STATE_LIMIT_BYTES - 200, Math.floor(nowSeconds()) - 10)
  const answer = await push(pushBody({ session_id: 'after-expiry' }))
  assert.equal(answer.body.event, 'actionsReceived', JSON.stringify(answer.body))
  assert.deepEqual(Object.keys(replayState()).length, 1, 'expired entries were kept')
})
