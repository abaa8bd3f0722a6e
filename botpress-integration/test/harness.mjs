// Drives the built integration (dist/index.cjs) the way Botpress does: operation headers, a
// base64 configuration, and a stand-in Botpress API (events, states) on loopback that the
// integration's own client talks to through BP_API_URL. Like Botpress's, its patchState merges
// the payload's top-level keys into the stored state in one step, and a state write that would
// hold more than 128 KB is refused (413 PayloadTooLarge), leaving the state as it was.
import { createServer } from 'node:http'
import { createHmac } from 'node:crypto'
import { createRequire } from 'node:module'
import { resolve } from 'node:path'

import { IDENTITY_SECRET } from './identity-token.mjs'

export const SECRET = 'test-secret-0123456789'
export const CONFIG = { webhookSecret: SECRET, windowMs: 120000, maxEvents: 50, matchUserBy: 'userId' }
/** The configuration with signed identities required. */
export const VERIFIED = { ...CONFIG, identitySecret: IDENTITY_SECRET }

export { IDENTITY_SECRET, identityToken } from './identity-token.mjs'

/** Botpress's limit on a state's payload, in bytes. */
export const STATE_LIMIT_BYTES = 128 * 1024

/** A loopback Botpress API that records created events and keeps integration states; the next `failEvents` event creations fail. */
async function startBotpressApi() {
  const api = { events: [], states: new Map(), requests: [], failEvents: 0 }
  const server = createServer((req, res) => {
    let raw = ''
    req.on('data', (c) => (raw += c))
    req.on('end', () => {
      const body = raw ? JSON.parse(raw) : {}
      api.requests.push({ method: req.method, url: req.url, body })
      const send = (status, value) => {
        res.writeHead(status, { 'content-type': 'application/json' })
        res.end(JSON.stringify(value))
      }
      const state = req.url.match(/^\/v1\/chat\/states\/([^/]+)\/([^/]+)\/([^/]+)(\/get-or-set)?$/)
      if (req.method === 'POST' && req.url === '/v1/chat/events' && api.failEvents > 0) {
        api.failEvents -= 1
        return send(500, { id: 'err_event', code: 500, type: 'Internal', message: 'event creation failed (injected by the test)' })
      }
      if (req.method === 'POST' && req.url === '/v1/chat/events') {
        const event = { id: `evt_${api.events.length + 1}`, ...body }
        api.events.push(event)
        return send(200, { event })
      }
      if (state) {
        const key = state.slice(1, 4).join('/')
        let next
        if (state[4] === undefined && req.method === 'POST') next = body.payload
        if (state[4] === undefined && req.method === 'PATCH') next = { ...api.states.get(key), ...body.payload }
        if (state[4] && !api.states.has(key)) next = body.payload
        if (next !== undefined && Buffer.byteLength(JSON.stringify(next)) > STATE_LIMIT_BYTES) {
          return send(413, { id: 'err_state', code: 413, type: 'PayloadTooLarge', message: `state ${key} would exceed ${STATE_LIMIT_BYTES} bytes` })
        }
        if (next !== undefined) api.states.set(key, next)
        return send(200, { state: { type: state[1], id: state[2], name: state[3], payload: api.states.get(key) } })
      }
      send(404, { code: 404, type: 'ResourceNotFound', message: `no route ${req.method} ${req.url}` })
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  api.url = `http://127.0.0.1:${server.address().port}`
  api.close = () => new Promise((resolve) => server.close(resolve))
  return api
}

/**
 * The built integration, its client pointed at `api`: dist/index.cjs, or the bundle named by
 * AUTOPLAY_BUNDLE (scripts/bp-check.mjs runs the tests on the one `bp build` makes).
 */
export const BUNDLE = resolve(process.env.AUTOPLAY_BUNDLE ?? new URL('../dist/index.cjs', import.meta.url).pathname)

function loadIntegration(api) {
  process.env.BP_API_URL = api.url
  return createRequire(import.meta.url)(BUNDLE).default
}

/** A fresh stand-in Botpress API and the integration loaded against it: `{ api, integration }`. */
export async function openIntegration() {
  const api = await startBotpressApi()
  return { api, integration: loadIntegration(api) }
}

function headers(operation, configuration) {
  return {
    'x-bot-id': 'bot-1',
    'x-bot-user-id': 'bot-user-1',
    'x-integration-id': 'int-1',
    'x-integration-alias': 'autoplay',
    'x-webhook-id': 'hook-1',
    'x-bp-operation': operation,
    'x-bp-configuration': Buffer.from(JSON.stringify(configuration)).toString('base64'),
    'content-type': 'application/json',
  }
}

function decode(response) {
  const status = response?.status ?? 200
  let body = response?.body
  try {
    body = body === undefined ? undefined : JSON.parse(body)
  } catch {}
  return { status, body, headers: response?.headers ?? {} }
}

/** Calls an action as Botpress does (`action_triggered`); returns `{ status, body }`. */
export async function callAction(integration, type, input, configuration = CONFIG) {
  const response = await integration.handler({
    method: 'POST',
    path: '/',
    query: '',
    headers: headers('action_triggered', configuration),
    body: JSON.stringify({ type, input }),
  })
  return decode(response)
}

/** The action's output, or a thrown Error with Botpress's message. */
export async function action(integration, type, input, configuration = CONFIG) {
  const { status, body } = await callAction(integration, type, input, configuration)
  if (status !== 200) throw new Error(`${type}: HTTP ${status}: ${body?.message ?? JSON.stringify(body)}`)
  return body.output
}

/** The connector's push-mode signature: undated. */
export function signature(raw, secret = SECRET) {
  return 'sha256=' + createHmac('sha256', secret).update(raw).digest('hex')
}

/** The streamer's signature, dated `unixSeconds` (default now). */
export function datedSignature(raw, unixSeconds = Math.floor(Date.now() / 1000), secret = SECRET) {
  return `t=${unixSeconds},v1=` + createHmac('sha256', secret).update(`${unixSeconds}.${raw}`).digest('hex')
}

/** Delivers an HTTP request to the integration's webhook (`webhook_received`). */
export async function webhook(integration, { method = 'POST', raw = '', headers: extra = {} } = {}, configuration = CONFIG) {
  const req = { method, path: '/', query: '', headers: { 'content-type': 'application/json', ...extra }, body: raw }
  const response = await integration.handler({
    method: 'POST',
    path: '/',
    query: '',
    headers: headers('webhook_received', configuration),
    body: JSON.stringify({ req }),
  })
  return decode(response)
}

/** A webhook POST of `body` (an object or raw text), signed as the streamer signs. */
export function signedPost(integration, body, configuration = CONFIG) {
  const raw = typeof body === 'string' ? body : JSON.stringify(body)
  return webhook(integration, { raw, headers: { 'X-Connector-Signature': datedSignature(raw) } }, configuration)
}

/** A proactive trigger as the streamer POSTs it (`userId` may be null). */
export function triggerBody({ triggerId, userId, sessionId = `sess-${userId}`, message = 'Comparing options?' }) {
  return {
    type: 'trigger',
    trigger_id: triggerId,
    trigger: 'ping_pong',
    session_id: sessionId,
    user_id: userId,
    product_id: 'prod_42',
    message,
    fired_at: new Date().toISOString(),
    signal: {
      kind: 'ping_pong',
      description: 'went back and forth between /pricing and /checkout 3 times in 40 s',
      evidence: { pages: ['/pricing', '/checkout'], count: 2, from: '2026-11-24T12:00:00.000Z', to: '2026-11-24T12:00:40.000Z' },
    },
  }
}

/** Installs the integration as Botpress does (`register`); returns `{ status, body }`. */
export async function register(integration, configuration = CONFIG) {
  const response = await integration.handler({
    method: 'POST',
    path: '/',
    query: '',
    headers: headers('register', configuration),
    body: JSON.stringify({ webhookUrl: 'https://webhook.botpress.cloud/hook-1' }),
  })
  return decode(response)
}
