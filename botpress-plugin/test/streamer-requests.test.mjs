// What the streamer sends to deliver a nudge on the plugin path, recorded from the real
// @botpress/client 1.35.0 (so the Rust sender can be byte-identical to it): find the Botpress user
// by the plugin's user tag, then get-or-create the bot message in the conversation the user's tag
// names — or, when no user is linked yet, upsert a pending-nudge row the plugin shows when they
// next write. tests/fixtures/plugin-nudge.json must stay what the client sends.
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { test } from 'node:test'

import { Client } from '@botpress/client'

import { checkRequest } from './harness.mjs'

const FIXTURE = new URL('../../tests/fixtures/plugin-nudge.json', import.meta.url)
const NUDGE = { nudgeId: 'trig_42', message: 'Stuck on billing? I can walk you through it.', choices: [{ title: 'Yes please', value: 'yes' }, { title: 'No thanks', value: 'no' }] }
const KEPT_HEADERS = ['authorization', 'x-bot-id', 'content-type']

async function record(calls) {
  const seen = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (c) => (body += c))
    req.on('end', () => {
      const headers = Object.fromEntries(KEPT_HEADERS.filter((h) => req.headers[h]).map((h) => [h, req.headers[h]]))
      seen.push({ method: req.method, path: req.url, headers, body })
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('{}')
    })
  })
  await new Promise((done) => server.listen(0, '127.0.0.1', done))
  const client = new Client({ apiUrl: `http://127.0.0.1:${server.address().port}`, token: 'bp_bak_TOKEN', botId: 'BOT_ID' })
  try {
    for (const call of calls) await call(client)
  } finally {
    await new Promise((done) => server.close(done))
  }
  return seen
}

test('the streamer nudge requests are what @botpress/client 1.35.0 sends, and valid for its types', async () => {
  const { nudgeRequest, nudgeMessage } = await import('../dist/nudges.cjs')
  const message = nudgeRequest('autoplay', 'BOT_ID', 'CONVERSATION_ID', NUDGE)
  const pendingRow = { key: 'user:AUTOPLAY_USER_ID', nudgeId: NUDGE.nudgeId, message: NUDGE.message, choices: NUDGE.choices, expiresAt: '2026-12-02T13:00:00.000Z' }
  assert.equal(checkRequest('getOrCreateMessage', message), null)
  assert.equal(checkRequest('upsertTableRows', { rows: [pendingRow], keyColumn: 'nudgeId' }), null)
  assert.deepEqual(nudgeMessage(NUDGE).type, 'choice')
  const requests = await record([
    (c) => c.listUsers({ tags: { 'autoplay#autoplayUserId': 'AUTOPLAY_USER_ID' } }),
    (c) => c.getOrCreateMessage(message),
    (c) => c.upsertTableRows({ table: 'AutoPlayPendingNudgesTable', rows: [pendingRow], keyColumn: 'nudgeId' }),
  ])
  const fixture = {
    about:
      "Plugin path nudge, as @botpress/client 1.35.0 sends it (regenerate: UPDATE_FIXTURES=1 npm test in botpress-plugin). 1: find the linked user by tag; the response's users[0].tags['autoplay#conversationId'] is the conversation. 2: if there is one, the bot message (idempotent on the nudge id tag). 3: if not, the pending row the plugin shows when the user next writes (expiresAt = now + TTL). Placeholders in capitals.",
    requests: requests.map((r, i) => ({ step: ['find user', 'bot message', 'pending nudge'][i], ...r, body: r.body ? JSON.parse(r.body) : null, rawBody: r.body })),
  }
  if (process.env.UPDATE_FIXTURES) writeFileSync(FIXTURE, JSON.stringify(fixture, null, 2) + '\n')
  assert.deepEqual(JSON.parse(readFileSync(FIXTURE, 'utf8')), fixture)
})
