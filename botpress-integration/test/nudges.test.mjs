// Proactive nudges reach the user's chat: a conversation links itself to its Autoplay user, a
// trigger for a linked user is created in that conversation, and a nudge for a user with no
// conversation waits for the next one that links, once. Driven through the real handler.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'

import { CONFIG, action, openIntegration, signedPost, triggerBody } from './harness.mjs'

let api, integration
before(async () => ({ api, integration } = await openIntegration()))
after(() => api.close())

let sequence = 0
function trigger(userId, message = 'Comparing options?') {
  sequence += 1
  return triggerBody({ triggerId: `sess-${userId}:ping_pong:${sequence}`, userId, message })
}

const link = (userId, conversationId, botpressUserId = `bp-${userId}`) =>
  action(integration, 'linkConversation', { conversationId, botpressUserId, userId })

test("a trigger for a linked user is created in that user's conversation, once", async () => {
  const linked = await link('user-a', 'conv-a1')
  assert.deepEqual(linked, { linked: true, identity: { verified: false, reason: null }, pendingNudge: null })

  const body = trigger('user-a')
  const delivered = await signedPost(integration, body)
  assert.equal(delivered.status, 200, JSON.stringify(delivered.body))
  assert.equal(delivered.body.conversationId, 'conv-a1')
  const event = api.events.at(-1)
  assert.equal(event.type, 'triggerFired')
  assert.equal(event.conversationId, 'conv-a1', 'the event is not in the conversation')
  assert.equal(event.userId, 'bp-user-a', 'the event is not for the Botpress user')
  assert.equal(event.payload.message, 'Comparing options?')
  assert.equal(event.payload.description, 'went back and forth between /pricing and /checkout 3 times in 40 s')
  assert.equal(event.payload.conversationId, 'conv-a1')

  const count = api.events.length
  const again = await signedPost(integration, body)
  assert.equal(again.body.duplicate, true)
  assert.equal(api.events.length, count, 'a re-delivered trigger nudged twice')
})

test('with several tabs, the nudge goes to the conversation that linked last', async () => {
  await link('user-tabs', 'conv-tab-1')
  await link('user-tabs', 'conv-tab-2')
  assert.equal((await signedPost(integration, trigger('user-tabs'))).status, 200)
  assert.equal(api.events.at(-1).conversationId, 'conv-tab-2')
})

test("an unlinked user's nudge waits, then is handed to the next linking conversation once", async () => {
  const count = api.events.length
  const pending = await signedPost(integration, trigger('user-c', 'Need a hand with checkout?'))
  assert.equal(pending.status, 202)
  assert.equal(pending.body.pending, true)
  assert.equal(api.events.length, count, 'an unlinked nudge cost an event nobody sees')

  const first = await link('user-c', 'conv-c1')
  assert.equal(first.linked, true)
  assert.equal(first.pendingNudge?.message, 'Need a hand with checkout?')
  assert.equal(first.pendingNudge.description, 'went back and forth between /pricing and /checkout 3 times in 40 s')
  assert.equal((await link('user-c', 'conv-c2')).pendingNudge, null, 'the nudge was handed out twice')
  assert.equal((await link('user-other', 'conv-o')).pendingNudge, null, "another user got user-c's nudge")
})

test('without an id nothing is linked, and the reason says so', async () => {
  const none = await action(integration, 'linkConversation', { conversationId: 'conv-x', botpressUserId: 'bp-x' })
  assert.equal(none.linked, false)
  assert.match(none.identity.reason, /did not pass a user id .*nothing is read/)
})

test('links and waiting nudges stay bounded', async () => {
  for (let i = 0; i < 520; i += 1) await signedPost(integration, trigger(`crowd-${i}`))
  const nudges = api.states.get('integration/int-1/nudges')
  const live = Object.values(nudges).filter(Boolean).length
  const bytes = Buffer.byteLength(JSON.stringify(nudges))
  console.log(`520 waiting nudges: ${live} kept, ${bytes} bytes`)
  assert.ok(live <= 500, `${live} nudges kept`)
  assert.ok(bytes <= 100 * 1024, `${bytes} bytes of nudges`)
  assert.ok(live >= 200, `only ${live} nudges kept: the newest were dropped`)
  assert.ok(nudges[JSON.stringify(['crowd-519', null])], 'the newest nudge was dropped')
})

test('a link is made under the configured ids only', async () => {
  const bySession = { ...CONFIG, matchUserBy: 'sessionId' }
  const linked = await action(integration, 'linkConversation', { conversationId: 'conv-s', botpressUserId: 'bp-s', sessionId: 'sess-only' }, bySession)
  assert.equal(linked.linked, true)
  const body = { ...trigger('nobody'), session_id: 'sess-only', user_id: null }
  assert.equal((await signedPost(integration, body, bySession)).status, 200)
  assert.equal(api.events.at(-1).conversationId, 'conv-s')
})

test("a trigger never follows a session id into another user's chat", async () => {
  for (const matchUserBy of ['sessionId', 'userAndSession']) {
    const configuration = { ...CONFIG, matchUserBy }
    const session = `shared-${matchUserBy}`
    const aliceConversation = `conv-alice-${matchUserBy}`
    const linkAlice = () =>
      action(integration, 'linkConversation', { userId: 'alice', sessionId: session, conversationId: aliceConversation, botpressUserId: 'bp-alice' }, configuration)
    assert.equal((await linkAlice()).linked, true)

    const count = api.events.length
    const bobs = await signedPost(integration, { ...trigger('bob', 'A message for bob'), session_id: session }, configuration)
    assert.notEqual(bobs.body.conversationId, aliceConversation, `${matchUserBy}: bob's nudge reached alice's chat`)
    assert.equal(api.events.length, count, `${matchUserBy}: bob's nudge was created as an event`)
    assert.equal((await linkAlice()).pendingNudge, null, `${matchUserBy}: alice was handed bob's nudge`)

    const alices = await signedPost(integration, { ...trigger('alice', 'A message for alice'), session_id: session }, configuration)
    assert.equal(alices.body.conversationId, aliceConversation, `${matchUserBy}: alice's own nudge went astray`)
  }
})

test('a trigger without the ids the configuration matches on is dropped, with the reason', async () => {
  await link('user-d', 'conv-d')
  const count = api.events.length
  const anonymous = await signedPost(integration, { ...trigger('user-d'), user_id: null })
  assert.equal(anonymous.status, 202)
  assert.equal(anonymous.body.dropped, true)
  assert.match(anonymous.body.reason, /lacks a user id .*matchUserBy=userId/)
  assert.equal(api.events.length, count)
  assert.equal((await link('user-d', 'conv-d')).pendingNudge, null)
})
