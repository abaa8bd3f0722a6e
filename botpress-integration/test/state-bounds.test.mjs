// The integration's states stay under Botpress's 128 KB whatever a stranger sends: without an
// identity secret anyone can call Link conversation with ids of their choosing, and no input of
// theirs may lock another user out. Driven through the real handler, against a stand-in API that
// refuses state writes over 128 KB as Botpress does.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'

import { STATE_LIMIT_BYTES, action, callAction, openIntegration, signedPost, triggerBody } from './harness.mjs'

let api, integration
before(async () => ({ api, integration } = await openIntegration()))
after(() => api.close())

const LINKS = 'integration/int-1/links'
const link = (input) => callAction(integration, 'linkConversation', { botpressUserId: 'bp-x', conversationId: 'conv-x', ...input })
const stateBytes = (key) => Buffer.byteLength(JSON.stringify(api.states.get(key) ?? {}))

/** A normal user links, and a nudge for them is created in their conversation. */
async function normalUserStillLinks(name) {
  const linked = await action(integration, 'linkConversation', { userId: name, conversationId: `conv-${name}`, botpressUserId: `bp-${name}` })
  assert.equal(linked.linked, true)
  const fired = await signedPost(integration, triggerBody({ triggerId: `${name}:1`, userId: name }))
  assert.equal(fired.body.conversationId, `conv-${name}`, JSON.stringify(fired.body))
}

test('links with over-long ids are stored under the core\'s shortened ids, bounded; a normal user still links afterwards', async () => {
  for (let i = 0; i < 40; i += 1) {
    const answer = await link({ userId: `${i}-`.padEnd(5_000, 'x') })
    assert.equal(answer.body.output?.linked, true, `link ${i}: ${JSON.stringify(answer.body)}`)
  }
  const keys = Object.keys(api.states.get(LINKS))
  console.log(`40 links with 5,000-character user ids: links state ${stateBytes(LINKS)} bytes, longest key ${Math.max(...keys.map((k) => Buffer.byteLength(k)))} bytes`)
  assert.ok(keys.every((key) => Buffer.byteLength(key) < 220 && key.includes('…#')), 'a key holds more than the shortened id')
  assert.ok(stateBytes(LINKS) <= STATE_LIMIT_BYTES * 0.8)
  const conversation = await link({ userId: 'someone', conversationId: 'c'.repeat(300) })
  assert.match(conversation.body.message, /conversationId/)
  await normalUserStillLinks('after-long-ids')
})

test('a flood of links at the largest allowed size keeps the state bounded; a normal user still links', async () => {
  for (let i = 0; i < 400; i += 1) {
    const answer = await link({ userId: `${i}-`.padEnd(256, 'u'), sessionId: `${i}-`.padEnd(256, 's'), conversationId: `${i}-`.padEnd(256, 'c'), botpressUserId: `${i}-`.padEnd(256, 'b') })
    assert.equal(answer.status, 200, `link ${i}: ${answer.body.message}`)
  }
  const bytes = stateBytes(LINKS)
  console.log(`400 links with 256-byte ids: every one accepted; links state ${bytes} bytes, ${Object.keys(api.states.get(LINKS)).length} entries`)
  assert.ok(bytes <= STATE_LIMIT_BYTES * 0.8, `links state ${bytes} bytes`)
  await normalUserStillLinks('after-flood')
})

test('a links state an earlier version left at the limit is trimmed before writing, not written past it', async () => {
  const legacy = {}
  for (let i = 0; Buffer.byteLength(JSON.stringify(legacy)) < STATE_LIMIT_BYTES - 600; i += 1) {
    legacy[`user:${i}`.padEnd(4_000, 'x')] = { conversationId: 'conv-old', userId: 'bp-old', at: Date.now() }
  }
  api.states.set(LINKS, legacy)
  await normalUserStillLinks('after-legacy')
  assert.ok(stateBytes(LINKS) <= STATE_LIMIT_BYTES * 0.8)
})
