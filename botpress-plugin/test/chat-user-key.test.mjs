// The identity Botpress already has: a Chat integration user key (HS256 JWT, claim `id`, signed
// with the integration's Encryption Key), passed by the webchat as user data `chatUserKey`. Through
// the sdk's bot server: a valid key links its `id` as the Autoplay user (and the streamer's
// lookup by tag finds them); a forged one links nothing; neither the key nor the secret is logged.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { SignJWT, base64url } from 'jose'

import { IDENTITY_SECRET, identityToken } from '../../botpress-integration/test/identity-token.mjs'
import { callAction, incomingMessage, loadBot, startBotpressApi } from './harness.mjs'

const ENCRYPTION_KEY = 'chat-encryption-key-of-the-bot-7f3a'
const TABLE = 'AutoPlaySessionsTable'

/** A user key as the Chat integration makes one (`jwt.sign({ id }, key, { algorithm: 'HS256' })`: iat, no exp). */
const chatKey = (id, { key = ENCRYPTION_KEY, alg = 'HS256', exp } = {}) => {
  const jwt = new SignJWT({ id }).setProtectedHeader({ alg, typ: 'JWT' }).setIssuedAt()
  return (exp ? jwt.setExpirationTime(exp) : jwt).sign(new TextEncoder().encode(key))
}
const segment = (value) => base64url.encode(JSON.stringify(value))

function sessionRow(session, user, description) {
  const at = new Date(Date.now() - 5000).toISOString()
  return {
    id: Math.floor(Math.random() * 1e9), session_id: session, user_id: user, product_id: 'p', summary: null, action_count: 1, updatedAt: at, signals: [],
    actions: [{ index: 0, type: 'click', title: 'Click', description, canonical_url: 'https://app/x', occurred_at: at }],
  }
}
const tables = () => ({ [TABLE]: [sessionRow('sa', 'alice', 'alice opened pricing'), sessionRow('sb', 'bob', 'bob opened billing')] })

/** Everything the bot writes to the console while `run` runs (the sdk's logger writes there). */
async function captureLogs(run) {
  const lines = []
  const saved = {}
  for (const level of ['log', 'info', 'warn', 'error', 'debug']) {
    saved[level] = console[level]
    console[level] = (...args) => lines.push(args.join(' '))
  }
  try {
    await run()
  } finally {
    Object.assign(console, saved)
  }
  return lines.join('\n')
}

test('a valid Chat user key links its id as the Autoplay user: the agent reads that user only, the streamer finds them by tag', async () => {
  const key = await chatKey('alice')
  const api = await startBotpressApi({ userData: { 'bp-1': { chatUserKey: key, autoplayUserId: 'bob' } }, tables: tables() })
  try {
    const bot = loadBot(api, { chatEncryptionKey: ENCRYPTION_KEY })
    const logs = await captureLogs(() => incomingMessage(bot, { userId: 'bp-1', conversationId: 'conv-1' }))
    assert.deepEqual(api.errors, [])
    assert.equal(api.conversations['conv-1'].tags['autoplay#autoplayUserId'], 'alice')
    assert.equal(api.users['bp-1'].tags['autoplay#autoplayUserId'], 'alice')
    assert.equal(api.users['bp-1'].tags['autoplay#autoplaySessionId'], undefined, 'a Chat user key names no session')
    assert.equal(api.users['bp-1'].tags['autoplay#conversationId'], 'conv-1')

    const out = await callAction(bot, 'autoplay#getLiveContext', { conversationId: 'conv-1' })
    assert.equal(out.identified, true)
    assert.match(out.text, /alice opened pricing/)
    assert.doesNotMatch(out.text, /bob/, 'the unsigned autoplayUserId beside the key is ignored')

    // The streamer's lookup (GET /v1/chat/users?tags.autoplay#autoplayUserId=alice).
    const found = await (await fetch(`${api.url}/v1/chat/users?${new URLSearchParams({ 'tags.autoplay#autoplayUserId': 'alice' })}`)).json()
    assert.deepEqual(found.users.map((u) => u.tags['autoplay#conversationId']), ['conv-1'])
    assert.ok(!logs.includes(key) && !logs.includes(ENCRYPTION_KEY), logs)
  } finally {
    await api.close()
  }
})

test('a forged Chat user key links nothing, and no unsigned id is trusted in its place; the log names why, never the key', async () => {
  const valid = await chatKey('alice')
  const [header, , signature] = valid.split('.')
  const forged = {
    'wrong key': await chatKey('alice', { key: 'someone-elses-encryption-key-0000' }),
    'alg none': `${segment({ alg: 'none', typ: 'JWT' })}.${segment({ id: 'alice' })}.`,
    'alg HS512 (not pinned)': await chatKey('alice', { alg: 'HS512' }),
    'tampered payload': `${header}.${segment({ id: 'bob', iat: Math.floor(Date.now() / 1000) })}.${signature}`,
    'expired': await chatKey('alice', { exp: Math.floor(Date.now() / 1000) - 3600 }),
    'id not a string': await chatKey(42),
    'over 4096 characters': await chatKey('a'.repeat(5000)),
    'not a JWT': 'chat-user-key',
  }
  const userData = Object.fromEntries(Object.entries(forged).map(([name, key], i) => [`bp-${i}`, { chatUserKey: key, autoplayUserId: 'alice', autoplaySessionId: 'sa' }]))
  userData['bp-none'] = { autoplayUserId: 'alice', autoplaySessionId: 'sa' }
  const api = await startBotpressApi({ userData, tables: tables() })
  try {
    const bot = loadBot(api, { chatEncryptionKey: ENCRYPTION_KEY })
    const logs = await captureLogs(async () => {
      for (const userId of Object.keys(userData)) await incomingMessage(bot, { userId, conversationId: `conv-${userId}` })
    })
    assert.deepEqual(api.errors, [])
    for (const [i, name] of Object.keys(forged).entries()) {
      assert.deepEqual(api.conversations[`conv-bp-${i}`].tags, {}, name)
      const out = await callAction(bot, 'autoplay#getLiveContext', { conversationId: `conv-bp-${i}` })
      assert.equal(out.identified, false, name)
    }
    assert.deepEqual(api.conversations['conv-bp-none'].tags, {}, 'without a key, the unsigned ids are not trusted')
    assert.equal(api.calls.filter((c) => c.op === 'updateUser' || c.op === 'findTableRows').length, 0)

    assert.match(logs, /not signed with the configured chatEncryptionKey/)
    assert.match(logs, /Chat user key has expired/)
    assert.match(logs, /no Chat user key: the webchat must pass the key your backend signs as user data chatUserKey/)
    for (const secret of [ENCRYPTION_KEY, ...Object.values(forged), valid]) assert.ok(!logs.includes(secret), `logged: ${secret.slice(0, 20)}…`)
  } finally {
    await api.close()
  }
})

test('with matchUserBy=sessionId a Chat user key identifies nobody (it names no session); the identity token still wins beside it', async () => {
  const api = await startBotpressApi({ userData: { 'bp-1': { chatUserKey: await chatKey('alice') } }, tables: tables() })
  try {
    const bot = loadBot(api, { chatEncryptionKey: ENCRYPTION_KEY, matchUserBy: 'sessionId' })
    const logs = await captureLogs(() => incomingMessage(bot, { userId: 'bp-1', conversationId: 'conv-1' }))
    assert.deepEqual(api.conversations['conv-1'].tags, {})
    assert.match(logs, /a Chat user key names a user \(claim id\), never a session/)
  } finally {
    await api.close()
  }

  const token = await identityToken({ sub: 'bob', sid: 'sb' })
  const both = await startBotpressApi({ userData: { 'bp-2': { chatUserKey: await chatKey('alice'), autoplayToken: token } }, tables: tables() })
  try {
    const bot = loadBot(both, { chatEncryptionKey: ENCRYPTION_KEY, identitySecret: IDENTITY_SECRET, matchUserBy: 'userAndSession' })
    await incomingMessage(bot, { userId: 'bp-2', conversationId: 'conv-2' })
    assert.deepEqual(both.conversations['conv-2'].tags, { 'autoplay#autoplayUserId': 'bob', 'autoplay#autoplaySessionId': 'sb' })
  } finally {
    await both.close()
  }
})
