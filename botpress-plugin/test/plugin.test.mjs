// The plugin through the sdk's own bot server: incoming webchat messages link the chatting user,
// the agent's action reads only that user's activity, pending nudges become bot messages.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { IDENTITY_SECRET as SECRET, identityToken } from '../../botpress-integration/test/identity-token.mjs'
import { callAction, incomingMessage, loadBot, startBotpressApi } from './harness.mjs'

const TABLE = 'MySessions'

function sessionRow(session, user, summary, description) {
  const now = Date.now()
  return {
    id: Math.floor(Math.random() * 1e9), session_id: session, user_id: user, product_id: 'p', summary, action_count: 1,
    updatedAt: new Date(now - 5000).toISOString(), signals: [],
    actions: [{ index: 0, type: 'click', title: 'Click', description, canonical_url: 'https://app/x', occurred_at: new Date(now - 5000).toISOString() }],
  }
}

const tables = () => ({
  [TABLE]: [sessionRow('sa', 'alice', 'alice compares plans', 'alice opened pricing'), sessionRow('sb', 'bob', 'bob updates billing', 'bob opened billing')],
})

test('a verified chat is linked in tags and the agent reads only that user\'s activity, in one table read', async () => {
  const api = await startBotpressApi({ userData: { 'bp-alice': { autoplayToken: await identityToken({ sub: 'alice', sid: 'sa' }) } }, tables: tables() })
  try {
    const bot = loadBot(api, { identitySecret: SECRET, sessionsTable: TABLE })
    await incomingMessage(bot, { userId: 'bp-alice', conversationId: 'conv-a' })
    assert.deepEqual(api.errors, [])
    // The first turn of a conversation: its tags, the user data, two tag writes, pending nudges.
    assert.deepEqual(api.calls.map((c) => c.op), ['getConversation', 'callAction', 'updateConversation', 'updateUser', 'findTableRows'])
    assert.equal(api.conversations['conv-a'].tags['autoplay#autoplayUserId'], 'alice')
    assert.equal(api.users['bp-alice'].tags['autoplay#autoplayUserId'], 'alice')
    assert.equal(api.users['bp-alice'].tags['autoplay#conversationId'], 'conv-a')

    api.calls.length = 0
    const out = await callAction(bot, 'autoplay#getLiveContext', { conversationId: 'conv-a' })
    assert.equal(out.identified, true)
    assert.match(out.text, /alice opened pricing/)
    assert.doesNotMatch(out.text, /bob/)
    assert.deepEqual(api.calls.map((c) => c.op), ['getConversation', 'findTableRows'])
    assert.equal(api.calls[1].id, TABLE)

    // Later turns of a linked conversation: one request, no identification again.
    api.calls.length = 0
    await incomingMessage(bot, { userId: 'bp-alice', conversationId: 'conv-a' })
    assert.deepEqual(api.calls.map((c) => c.op), ['getConversation'])
  } finally {
    await api.close()
  }
})

test('a token signed with another secret, or no user data at all, links nothing and reads nothing', async () => {
  const api = await startBotpressApi({
    userData: { 'bp-mallory': { autoplayToken: await identityToken({ sub: 'alice', sid: 'sa', secret: 'x'.repeat(32) }), autoplayUserId: 'alice' } },
    tables: tables(),
  })
  try {
    const bot = loadBot(api, { identitySecret: SECRET, sessionsTable: TABLE })
    await incomingMessage(bot, { userId: 'bp-mallory', conversationId: 'conv-m' })
    await incomingMessage(bot, { userId: 'bp-anon', conversationId: 'conv-n' })
    assert.equal(api.conversations['conv-m'].tags['autoplay#autoplayUserId'], undefined)
    const out = await callAction(bot, 'autoplay#getLiveContext', { conversationId: 'conv-m' })
    assert.deepEqual(out, { text: '', identified: false, reason: 'this conversation is not linked to an identified Autoplay user' })
    assert.equal(api.calls.filter((c) => c.op === 'findTableRows').length, 0)
  } finally {
    await api.close()
  }
})

test('without an identity secret the webchat ids are used, under matchUserBy', async () => {
  const api = await startBotpressApi({ userData: { 'bp-bob': { autoplayUserId: 'bob', autoplaySessionId: 'sb' } }, tables: tables() })
  try {
    const bot = loadBot(api, { sessionsTable: TABLE, matchUserBy: 'sessionId' })
    await incomingMessage(bot, { userId: 'bp-bob', conversationId: 'conv-b' })
    const tags = api.conversations['conv-b'].tags
    assert.equal(tags['autoplay#autoplaySessionId'], 'sb')
    assert.equal(tags['autoplay#autoplayUserId'], undefined, 'an empty tag value unsets the tag')
    const out = await callAction(bot, 'autoplay#getLiveContext', { conversationId: 'conv-b' })
    assert.match(out.text, /bob opened billing/)
    assert.doesNotMatch(out.text, /alice/)
  } finally {
    await api.close()
  }
})

test('a pending nudge becomes a bot message (with choices) when the user next writes, once, unless expired', async () => {
  const future = new Date(Date.now() + 600_000).toISOString()
  const past = new Date(Date.now() - 1000).toISOString()
  const pending = [
    { id: 1, key: 'user:alice', nudgeId: 'n1', message: 'Need a hand with pricing?', choices: [{ title: 'Yes', value: 'yes' }], expiresAt: future },
    { id: 2, key: 'user:alice', nudgeId: 'n1', message: 'Need a hand with pricing?', choices: [{ title: 'Yes', value: 'yes' }], expiresAt: future },
    { id: 3, key: 'user:alice', nudgeId: 'n0', message: 'stale', choices: [], expiresAt: past },
    { id: 4, key: 'user:bob', nudgeId: 'n2', message: 'for bob', choices: [], expiresAt: future },
  ]
  const api = await startBotpressApi({
    userData: { 'bp-alice': { autoplayToken: await identityToken({ sub: 'alice', sid: 'sa' }) } },
    tables: { AutoPlayPendingNudgesTable: pending },
  })
  try {
    const bot = loadBot(api, { identitySecret: SECRET })
    await incomingMessage(bot, { userId: 'bp-alice', conversationId: 'conv-a' })
    assert.deepEqual(api.errors, [])
    assert.deepEqual(
      api.messages.map(({ conversationId, userId, type, payload }) => ({ conversationId, userId, type, payload })),
      [{ conversationId: 'conv-a', userId: 'bot-1', type: 'choice', payload: { text: 'Need a hand with pricing?', options: [{ label: 'Yes', value: 'yes' }] } }]
    )
    assert.deepEqual(api.tables.AutoPlayPendingNudgesTable.map((r) => r.id), [4])
    await incomingMessage(bot, { userId: 'bp-alice', conversationId: 'conv-a' })
    assert.equal(api.messages.length, 1)
  } finally {
    await api.close()
  }
})
