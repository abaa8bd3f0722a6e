// With `identitySecret` set, a chat reads and links only the ids of a valid identity token:
// forged, expired, unsigned or absent tokens get an empty context with the reason, and a valid
// token for one user never yields another user's rows, whatever the bot passes alongside.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { IDENTITY_SECRET, VERIFIED, action, callAction, identityToken, openIntegration } from './harness.mjs'

let api, integration
before(async () => ({ api, integration } = await openIntegration()))
after(() => api.close())

const NOW = Date.now()
const iso = (ms) => new Date(ms).toISOString()

function sessionRow(user, session, marker) {
  return {
    session_id: session, user_id: user, product_id: 'p', summary: `${marker} summary`, action_count: 2, signals: [],
    updatedAt: iso(NOW - 5_000),
    actions: [{ index: 0, type: 'click', title: 'Click', description: `${marker} clicked`, canonical_url: 'https://app.test/x', occurred_at: iso(NOW - 10_000) }],
  }
}

function eventRow(user, session, marker, i) {
  return { user_id: user, session_id: session, product_id: 'p', title: 'Click', description: `${marker} event ${i}`, canonical_url: 'https://app.test/x', action_index: i, createdAt: iso(NOW - 20_000 + i) }
}

const context = (input, configuration = VERIFIED) => action(integration, 'getAgentContext', { now: NOW, ...input }, configuration)

test("a valid token scopes to its own ids, whatever ids the bot passes", async () => {
  const token = await identityToken({ sub: 'user-a' })
  const sessionRows = [sessionRow('user-a', 's-a', 'A'), sessionRow('user-b', 's-b', 'B')]
  const out = await context({ identityToken: token, userId: 'user-b', sessionRows })
  assert.deepEqual(out.identity, { verified: true, reason: null })
  assert.equal(out.context.userId, 'user-a')
  assert.equal(out.context.summary, 'A summary')
  assert.doesNotMatch(JSON.stringify(out.context), /B summary|B clicked/)
})

test('a forged, expired, unsigned, subject-less or absent token gets an empty context and the reason', async () => {
  const exp = Math.floor(NOW / 1000) + 3600
  const unsigned = [
    Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url'),
    Buffer.from(JSON.stringify({ sub: 'user-a', exp })).toString('base64url'),
    '',
  ].join('.')
  const cases = [
    ['forged', await identityToken({ sub: 'user-a', secret: 'someone-else-entirely-0123456789abcdef' }), /not signed with the configured identitySecret/],
    ['expired', await identityToken({ sub: 'user-a', expiresAt: Math.floor(NOW / 1000) - 120 }), /expired/],
    ['unsigned', unsigned, /not valid/],
    ['without sub', await identityToken({ sid: 's-a' }), /not valid.*sub/],
    ['garbage', 'not-a-token', /not valid/],
    ['absent', undefined, /no identity token/],
  ]
  const sessionRows = [sessionRow('user-a', 's-a', 'A'), sessionRow('user-b', 's-b', 'B')]
  for (const [name, token, reason] of cases) {
    const out = await context({ identityToken: token, userId: 'user-a', sessionRows })
    assert.equal(out.identity.verified, false, name)
    assert.match(out.identity.reason, reason, name)
    assert.equal(out.context.summary, null, `${name}: a summary was read`)
    assert.equal(out.context.recentEvents.length, 0, `${name}: events were read`)

    const filters = await action(integration, 'contextReads', { identityToken: token, userId: 'user-a', now: NOW }, VERIFIED)
    assert.deepEqual(filters.reads, [], `${name}: tables would be read`)
    assert.match(filters.identity.reason, reason)

    const link = await action(integration, 'linkConversation', { identityToken: token, userId: 'user-a', conversationId: 'c', botpressUserId: 'u' }, VERIFIED)
    assert.equal(link.linked, false, `${name}: the conversation was linked`)
  }
})

/** A small seeded generator (mulberry32), so a failure replays. */
function random(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

test("property: a valid token for one user never yields another user's rows (mixed tables)", async () => {
  const rand = random(20261125)
  const pick = (items) => items[Math.floor(rand() * items.length)]
  for (let round = 0; round < 40; round += 1) {
    const users = Array.from({ length: 2 + Math.floor(rand() * 5) }, (_, i) => `u${round}-${i}`)
    const sessionRows = []
    const recentEvents = []
    const summaryRecords = []
    for (let i = 0; i < 12; i += 1) {
      const user = pick(users)
      // Some users share a session id with another user: only the token's ids may decide.
      const session = rand() < 0.3 ? 'shared-session' : `${user}-s${Math.floor(rand() * 2)}`
      const marker = `<${user}>`
      sessionRows.push(sessionRow(user, session, marker))
      recentEvents.push(eventRow(user, session, marker, i))
      summaryRecords.push({ user_id: user, session_id: session, summary: `${marker} summary`, updatedAt: iso(NOW - i) })
    }
    const me = pick(users)
    const mySession = rand() < 0.5 ? `${me}-s0` : undefined
    const matchUserBy = mySession ? pick(['userId', 'sessionId', 'userAndSession']) : 'userId'
    const configuration = { ...VERIFIED, matchUserBy }
    const token = await identityToken({ sub: me, sid: mySession })
    const claimed = pick(users) // what a tampered webchat might pass
    for (const rows of [{ sessionRows }, { recentEvents, summaryRecords }]) {
      const out = await context({ identityToken: token, userId: claimed, sessionId: 'shared-session', ...rows }, configuration)
      assert.equal(out.identity.verified, true)
      const others = users.filter((u) => u !== me).map((u) => `<${u}>`)
      const seen = JSON.stringify(out.context)
      for (const other of others) {
        assert.ok(!seen.includes(other), `round ${round} (${matchUserBy}): ${me}'s context holds ${other}'s rows`)
      }
      for (const event of out.context.recentEvents) assert.equal(event.user_id ?? me, me)
    }
  }
})

const BINARY = fileURLToPath(new URL('../../target/debug/autoplay-botpress', import.meta.url))

test('a token minted by `autoplay-botpress identity-token` is accepted', async (t) => {
  if (!existsSync(BINARY)) {
    t.skip(`${BINARY} is not built (cargo build -p autoplay-botpress-cli): skipped`)
    return
  }
  const token = execFileSync(BINARY, ['identity-token', '--user-id', 'user-minted', '--session-id', 's-m', '--ttl', '10m'], {
    env: { ...process.env, AUTOPLAY_IDENTITY_SECRET: IDENTITY_SECRET },
    encoding: 'utf8',
  }).trim()
  const out = await action(integration, 'linkConversation', { identityToken: token, conversationId: 'c-m', botpressUserId: 'bp-m' }, { ...VERIFIED, matchUserBy: 'userAndSession' })
  assert.deepEqual([out.linked, out.identity], [true, { verified: true, reason: null }])
})

const verifiedLink = (identityToken) =>
  action(integration, 'linkConversation', { identityToken, conversationId: 'c-x', botpressUserId: 'bp-x' }, { ...VERIFIED, matchUserBy: 'userAndSession' })

/** The Node snippet of hub.md, as a builder would paste it. */
async function hubSnippet() {
  const hub = readFileSync(new URL('../hub.md', import.meta.url), 'utf8')
  const code = hub.match(/```js\n(import \{ createHmac \}[\s\S]*?)```/)?.[1]
  assert.ok(code, 'hub.md has no Node snippet for minting identity tokens')
  const file = join(mkdtempSync(join(tmpdir(), 'hub-snippet-')), 'identity.mjs')
  writeFileSync(file, code)
  return import(file)
}

test("hub.md's Node snippet for backends mints tokens the integration accepts", async () => {
  const { autoplayIdentity } = await hubSnippet()
  const out = await verifiedLink(autoplayIdentity('user-node', 's-node', 600, IDENTITY_SECRET))
  assert.deepEqual([out.linked, out.identity.verified], [true, true])
  const expired = await verifiedLink(autoplayIdentity('user-node', 's-node', -120, IDENTITY_SECRET))
  assert.match(expired.identity.reason, /expired/)
})

test('the Python snippet for backends mints tokens the integration accepts', async (t) => {
  const python = spawnSync('python3', ['--version'])
  if (python.error) {
    t.skip('python3 is not installed: skipped')
    return
  }
  const examples = fileURLToPath(new URL('../examples/', import.meta.url))
  const token = execFileSync('python3', ['-c', "from identity import autoplay_identity; print(autoplay_identity('user-py', 's-py', 600))"], {
    cwd: examples,
    env: { ...process.env, AUTOPLAY_IDENTITY_SECRET: IDENTITY_SECRET, PYTHONDONTWRITEBYTECODE: '1' },
    encoding: 'utf8',
  }).trim()
  const out = await verifiedLink(token)
  assert.deepEqual([out.linked, out.identity.verified], [true, true])
})

const reads = (input, configuration = VERIFIED) => action(integration, 'contextReads', { now: NOW, ...input }, configuration)
const nowS = Math.floor(NOW / 1000)

test('tokens that live too long, come from the future, are huge or carry ids of the wrong type are refused, by reason', async () => {
  const cases = [
    ['exp in year 3000', { sub: 'user-a', issuedAt: nowS, expiresAt: 32503680000 }, /lives \d+ s, longer than the allowed 86400 s/],
    ['exp in year 3000, no iat', { sub: 'user-a', expiresAt: 32503680000 }, /lives \d+ s, longer than the allowed 86400 s/],
    ['25 hours', { sub: 'user-a', issuedAt: nowS, expiresAt: nowS + 25 * 3600 }, /lives \d+ s, longer than the allowed 86400 s/],
    ['iat in an hour', { sub: 'user-a', issuedAt: nowS + 3600, expiresAt: nowS + 7200 }, /issued in the future/],
    ['over 4 KB', { sub: 'user-a', claims: { pad: 'x'.repeat(5_000) } }, /longer than 4096 characters/],
    ['numeric sub', { claims: { sub: 42 } }, /sub must be a string/],
    ['object sub', { claims: { sub: { id: 'user-a' } } }, /sub must be a string/],
    ['numeric sid', { sub: 'user-a', claims: { sid: 7 } }, /sid must be a string/],
    ['padded sub', { sub: ' user-a' }, /sub .*leading or trailing white space/],
  ]
  for (const [name, claims, reason] of cases) {
    const { status, body } = await callAction(integration, 'contextReads', { now: NOW, identityToken: await identityToken(claims) }, VERIFIED)
    assert.equal(status, 200, `${name}: HTTP ${status} ${body?.message}`)
    assert.equal(body.output.identity.verified, false, `${name}: ${JSON.stringify(body.output.identity)}`)
    assert.match(body.output.identity.reason, reason, name)
    assert.deepEqual(body.output.reads, [], `${name}: tables would be read`)
  }
})

test('a short clock skew is tolerated, and the lifetime limit is configurable', async () => {
  const skewed = await reads({ identityToken: await identityToken({ sub: 'user-a', issuedAt: nowS + 20, expiresAt: nowS + 3600 }) })
  assert.deepEqual(skewed.identity, { verified: true, reason: null })
  const week = await identityToken({ sub: 'user-a', issuedAt: nowS, expiresAt: nowS + 7 * 86400 })
  assert.equal((await reads({ identityToken: week })).identity.verified, false)
  const longer = await reads({ identityToken: week }, { ...VERIFIED, maxIdentityLifetimeSeconds: 8 * 86400 })
  assert.deepEqual(longer.identity, { verified: true, reason: null })
})

test("padded ids are refused, never trimmed into someone else's; blank ids are absent", async () => {
  const unsigned = { ...VERIFIED, identitySecret: undefined }
  for (const userId of [' user-a', 'user-a ', '\tuser-a']) {
    const out = await reads({ userId }, unsigned)
    assert.deepEqual(out.reads, [], `${JSON.stringify(userId)} read user-a's rows`)
    assert.match(out.identity.reason, /userId .*leading or trailing white space/)
  }
  for (const userId of ['', '   ']) {
    const out = await reads({ userId }, unsigned)
    assert.deepEqual(out.reads, [])
    assert.match(out.identity.reason, /did not pass a user id/)
  }
  const blankSub = await reads({ identityToken: await identityToken({ sub: '   ' }) })
  assert.deepEqual(blankSub.reads, [])
  assert.match(blankSub.identity.reason, /does not carry a user id/)
  const blankSession = await reads({ userId: 'user-a', sessionId: ' ' }, { ...unsigned, matchUserBy: 'userAndSession' })
  assert.match(blankSession.identity.reason, /both a user id \(sub\) and a session id/)
  const exact = await reads({ userId: 'user-a' }, unsigned)
  assert.deepEqual(exact.reads[0].query.filter.user_id, { $eq: 'user-a' })
})
