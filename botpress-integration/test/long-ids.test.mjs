// Over-long Autoplay ids follow the core's rule on the Botpress side too (src/ids.rs): over 200
// UTF-8 bytes an id becomes its first 160 bytes, `…#` and 32 hex digits of its SHA-256 — the id
// the streamer writes its rows under — so a chat whose webchat id is long reads exactly those
// rows, and a trigger the streamer fires for that user reaches their conversation.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'

import { CONFIG, VERIFIED, action, identityToken, openIntegration, signedPost, triggerBody } from './harness.mjs'

let api, integration
before(async () => ({ api, integration } = await openIntegration()))
after(() => api.close())

const NOW = Date.now()
const LONG_USER = 'u-'.padEnd(300, 'é') // 300 characters, 598 UTF-8 bytes
const LONG_SESSION = 's-'.padEnd(300, 's')

/** The core's shortened form, computed here from its documented rule. */
function shortened(id) {
  let prefix = Buffer.from(id).subarray(0, 160).toString('utf8')
  if (prefix.endsWith('\uFFFD')) prefix = prefix.slice(0, -1) // cut on a character boundary
  return `${prefix}…#${createHash('sha256').update(id).digest('hex').slice(0, 32)}`
}

function sessionRow(user, session, marker) {
  return {
    session_id: session, user_id: user, product_id: 'p', summary: `${marker} summary`, action_count: 1, signals: [],
    updatedAt: new Date(NOW - 5_000).toISOString(),
    actions: [{ index: 0, type: 'click', title: 'Click', description: `${marker} clicked`, canonical_url: 'https://app.test/x', occurred_at: new Date(NOW - 10_000).toISOString() }],
  }
}

test('a long webchat id is scoped by the shortened id the streamer writes, not refused', async () => {
  const reads = await action(integration, 'contextReads', { userId: LONG_USER, sessionId: LONG_SESSION, now: NOW }, { ...CONFIG, matchUserBy: 'userAndSession' })
  assert.equal(reads.identity.reason, null, reads.identity.reason)
  assert.deepEqual(reads.reads[0].query.filter.user_id, { $eq: shortened(LONG_USER) })
  assert.deepEqual(reads.reads[0].query.filter.session_id, { $eq: shortened(LONG_SESSION) })
  assert.ok(Buffer.byteLength(shortened(LONG_USER)) <= 200)

  const token = await identityToken({ sub: LONG_USER })
  const verified = await action(integration, 'contextReads', { identityToken: token, now: NOW }, VERIFIED)
  assert.deepEqual(verified.reads[0].query.filter.user_id, { $eq: shortened(LONG_USER) }, 'a token with a long sub reads the same rows')
})

test('the rows the streamer wrote under the shortened id are the chat\'s context; a neighbour with the same prefix is not', async () => {
  const neighbour = `${LONG_USER.slice(0, -1)}x` // same first 160 bytes, another id
  assert.notEqual(shortened(neighbour), shortened(LONG_USER))
  const sessionRows = [sessionRow(shortened(LONG_USER), 's1', 'MINE'), sessionRow(shortened(neighbour), 's2', 'THEIRS')]
  const { context, text } = await action(integration, 'getAgentContext', { userId: LONG_USER, now: NOW, sessionRows })
  assert.equal(context.recentEvents.length, 1)
  assert.match(text, /MINE clicked/)
  assert.doesNotMatch(text, /THEIRS/)
})

test('links, webhook batches and triggers with long ids meet under the same shortened ids', async () => {
  const linked = await action(integration, 'linkConversation', { userId: LONG_USER, conversationId: 'conv-long', botpressUserId: 'bp-long' })
  assert.equal(linked.linked, true, JSON.stringify(linked))

  const batch = { user_id: LONG_USER, session_id: LONG_SESSION, product_id: 'p', batch_id: 'b-long', actions: [{ title: 'Click', description: 'clicked', canonical_url: 'https://app.test/x' }] }
  const delivered = await signedPost(integration, batch)
  assert.equal(delivered.status, 200, JSON.stringify(delivered.body))
  assert.equal(api.events.at(-1).payload.userId, shortened(LONG_USER))

  // The streamer's trigger ids begin with the pair's row key, so they outgrow any one id.
  const triggerId = `${JSON.stringify([shortened(LONG_USER), shortened(LONG_SESSION)])}:ping_pong:2026-11-24T12:00:00Z`
  assert.ok(Buffer.byteLength(triggerId) > 256)
  const fired = await signedPost(integration, triggerBody({ triggerId, userId: shortened(LONG_USER), sessionId: shortened(LONG_SESSION) }))
  assert.equal(fired.status, 200, JSON.stringify(fired.body))
  assert.equal(fired.body.conversationId, 'conv-long')
  assert.equal(fired.body.triggerId, shortened(triggerId))
  const again = await signedPost(integration, triggerBody({ triggerId, userId: shortened(LONG_USER), sessionId: shortened(LONG_SESSION) }))
  assert.equal(again.body.duplicate, true, 'the streamer\'s retry of the same trigger makes no second event')
})
