// Runs the plugin the way Botpress does: installed in a bot (dist/bot.cjs, the sdk's own bot
// server), fed Botpress-shaped requests, its client pointed (BP_API_URL) at a loopback Botpress
// API that checks every request body against @botpress/client 1.35.0's request types.
import { createServer } from 'node:http'
import { createRequire } from 'node:module'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'

const require = createRequire(import.meta.url)
const CLIENT_TYPES = readFileSync(require.resolve('@botpress/client').replace(/index\.cjs$/, 'index.d.ts'), 'utf8')

const FIELDS = new Map()

/** The top-level fields of `<Operation>RequestBody` in the client's types: name → required. */
export function requestFields(operation) {
  if (!FIELDS.has(operation)) FIELDS.set(operation, readFields(operation))
  return FIELDS.get(operation)
}

function readFields(operation) {
  const start = CLIENT_TYPES.indexOf(`interface ${operation[0].toUpperCase()}${operation.slice(1)}RequestBody {`)
  if (start < 0) throw new Error(`@botpress/client has no request body type for ${operation}`)
  const fields = new Map()
  let depth = 0
  for (const line of CLIENT_TYPES.slice(start).split('\n').slice(1)) {
    const field = depth === 0 && line.match(/^\s{4}"?([A-Za-z_$][\w$]*)"?(\??):/)
    if (field) fields.set(field[1], field[2] !== '?')
    depth += (line.match(/[{[(]/g) ?? []).length - (line.match(/[}\])]/g) ?? []).length
    if (depth < 0) break
  }
  return fields
}

/** Why `body` is not a valid `operation` request, or null. */
export function checkRequest(operation, body) {
  const fields = requestFields(operation)
  const unknown = Object.keys(body).filter((key) => !fields.has(key))
  const missing = [...fields].filter(([key, required]) => required && !(key in body)).map(([key]) => key)
  return unknown.length || missing.length ? `${operation}: unknown ${unknown} missing ${missing}` : null
}

const ROUTES = [
  ['GET', /^\/v1\/chat\/conversations\/([^/?]+)$/, 'getConversation'],
  ['PUT', /^\/v1\/chat\/conversations\/([^/?]+)$/, 'updateConversation'],
  ['GET', /^\/v1\/chat\/users()$/, 'listUsers'],
  ['GET', /^\/v1\/chat\/users\/([^/?]+)$/, 'getUser'],
  ['PUT', /^\/v1\/chat\/users\/([^/?]+)$/, 'updateUser'],
  ['POST', /^\/v1\/chat\/actions$/, 'callAction'],
  ['POST', /^\/v1\/chat\/messages$/, 'createMessage'],
  ['POST', /^\/v1\/chat\/messages\/get-or-create$/, 'getOrCreateMessage'],
  ['POST', /^\/v1\/tables\/([^/]+)\/rows\/find$/, 'findTableRows'],
  ['POST', /^\/v1\/tables\/([^/]+)\/rows\/delete$/, 'deleteTableRows'],
]

/** The `tags` of a list query, in the client's form (`tags.<name>=<value>`) or the bracket form. */
export function queryTags(url) {
  const tags = {}
  for (const [key, value] of new URL(url, 'http://api').searchParams) {
    const name = key.match(/^tags(?:\.(.+)|\[(.+)\])$/)
    if (name) tags[name[1] ?? name[2]] = value
  }
  return tags
}

/**
 * Users by tag, as Botpress finds them (listUsers with `tags`): an index per tag name and value,
 * so a lookup among 100,000 users costs what it costs Botpress, not a scan.
 */
class TagIndex {
  #index = new Map()
  #key = (name, value) => `${name}\u0000${value}`
  set(id, before, after) {
    for (const [name, value] of Object.entries(before)) this.#index.get(this.#key(name, value))?.delete(id)
    for (const [name, value] of Object.entries(after)) {
      const key = this.#key(name, value)
      if (!this.#index.has(key)) this.#index.set(key, new Set())
      this.#index.get(key).add(id)
    }
  }
  find(tags) {
    const [first, ...rest] = Object.entries(tags)
    if (!first) throw new Error('fake API: listUsers without tags is not supported')
    const ids = [...(this.#index.get(this.#key(...first)) ?? [])]
    return ids.filter((id) => rest.every((pair) => this.#index.get(this.#key(...pair))?.has(id)))
  }
}

/** `tags` updated by `changes`: an empty value unsets the tag, as Botpress documents. */
function updatedTags(tags, changes) {
  const next = { ...tags, ...changes }
  for (const [name, value] of Object.entries(changes ?? {})) if (value === '') delete next[name]
  return next
}

/**
 * A loopback Botpress API: users and conversations with tags, webchat user data per user id,
 * table rows per table, created messages. `api.calls` lists every operation made (`record:
 * false` keeps only their counts per operation, `api.ops`, for long runs).
 */
export async function startBotpressApi({ users = {}, conversations = {}, userData = {}, tables = {}, record = true } = {}) {
  const api = { users, conversations, userData, tables, messages: [], calls: [], errors: [], ops: {} }
  const byTag = new TagIndex()
  for (const user of Object.values(users)) byTag.set(user.id, {}, user.tags ?? {})
  const server = createServer((req, res) => {
    let raw = ''
    req.on('data', (c) => (raw += c))
    req.on('end', () => {
      const send = (status, value) => {
        res.writeHead(status, { 'content-type': 'application/json' })
        res.end(JSON.stringify(value))
      }
      const body = raw ? JSON.parse(raw) : {}
      const path = req.url.split('?')[0]
      const route = ROUTES.find(([method, re]) => method === req.method && re.test(path))
      if (!route) return send(404, { code: 404, type: 'ResourceNotFound', message: `no route ${req.method} ${req.url}` })
      const [, re, op] = route
      const id = decodeURIComponent(path.match(re)[1] ?? '')
      api.ops[op] = (api.ops[op] ?? 0) + 1
      if (record) api.calls.push({ op, id, body })
      if (req.method !== 'GET') {
        const problem = checkRequest(op, body)
        if (problem) {
          api.errors.push(problem)
          return send(400, { code: 400, type: 'InvalidPayload', message: problem })
        }
      }
      const entity = (store, kind) => store[id] ?? (store[id] = { id, tags: {}, createdAt: new Date().toISOString() })
      switch (op) {
        case 'getConversation':
          return send(200, { conversation: { channel: 'channel', integration: 'webchat', ...entity(api.conversations) } })
        case 'updateConversation':
        case 'updateUser': {
          const store = op === 'updateUser' ? api.users : api.conversations
          const e = entity(store)
          const before = e.tags
          e.tags = updatedTags(e.tags, body.tags)
          if (op === 'updateUser') byTag.set(id, before, e.tags)
          return send(200, { [op === 'updateUser' ? 'user' : 'conversation']: e })
        }
        case 'getUser':
          return send(200, { user: entity(api.users) })
        case 'listUsers':
          return send(200, { users: byTag.find(queryTags(req.url)).map((user) => api.users[user]), meta: {} })
        case 'callAction':
          if (body.type !== 'webchat:getUserData') return send(404, { code: 404, type: 'ResourceNotFound', message: body.type })
          return send(200, { output: { userData: api.userData[body.input.userId] ?? {} } })
        case 'getOrCreateMessage': {
          const same = api.messages.find((m) => m.conversationId === body.conversationId && (body.discriminateByTags ?? []).every((t) => m.tags[t] === body.tags[t]))
          if (same && body.discriminateByTags?.length) return send(200, { message: same })
        }
        // falls through: a new message
        case 'createMessage': {
          const { discriminateByTags: _, ...fields } = body
          const message = { id: `msg_${api.messages.length + 1}`, direction: 'outgoing', ...fields }
          api.messages.push(message)
          return send(200, { message })
        }
        case 'findTableRows': {
          const rows = (api.tables[id] ?? []).filter((row) => matches(row, body.filter ?? {}))
          return send(200, { rows: rows.slice(0, body.limit ?? 100), hasMore: false, offset: 0, limit: body.limit ?? 100 })
        }
        case 'deleteTableRows': {
          const before = api.tables[id] ?? []
          api.tables[id] = before.filter((row) => !body.ids.includes(row.id))
          return send(200, { deletedRows: before.length - api.tables[id].length })
        }
      }
    })
  })
  /** Puts back a user or conversation as stored earlier (tags indexed, no request counted). */
  api.restore = (kind, entity) => {
    if (kind === 'users') byTag.set(entity.id, api.users[entity.id]?.tags ?? {}, entity.tags)
    api[kind][entity.id] = entity
  }
  await new Promise((done) => server.listen(0, '127.0.0.1', done))
  api.url = `http://127.0.0.1:${server.address().port}`
  api.close = () => new Promise((done) => server.close(done))
  return api
}

/** The filter operators the plugin and the core use ($eq, $in, $gte, $and, $or). */
function matches(row, filter) {
  return Object.entries(filter).every(([key, cond]) => {
    if (key === '$and') return cond.every((f) => matches(row, f))
    if (key === '$or') return cond.some((f) => matches(row, f))
    const value = row[key]
    if (cond === null || typeof cond !== 'object') return value === cond
    return Object.entries(cond).every(([op, arg]) =>
      op === '$eq' ? value === arg : op === '$in' ? arg.includes(value) : op === '$gte' ? value >= arg : op === '$gt' ? value > arg : op === '$lte' ? value <= arg : op === '$lt' ? value < arg : op === '$ne' ? value !== arg : (() => { throw new Error(`fake API: filter operator ${op} not supported`) })()
    )
  })
}

export const BUNDLE = resolve(process.env.AUTOPLAY_BOT_BUNDLE ?? new URL('../dist/bot.cjs', import.meta.url).pathname)

/** The bot with the plugin installed, configured with `configuration`, its client on `api`. */
export function loadBot(api, configuration = {}) {
  process.env.BP_API_URL = api.url
  process.env.AUTOPLAY_PLUGIN_CONFIG = JSON.stringify(configuration)
  delete require.cache[BUNDLE]
  return require(BUNDLE)
}

function headers(operation, type) {
  return {
    'x-bot-id': 'bot-1',
    'x-bot-user-id': 'bot-user-1',
    'x-bp-operation': operation,
    ...(type ? { 'x-bp-type': type } : {}),
    'x-bp-configuration': Buffer.from(JSON.stringify({ payload: '{}' })).toString('base64'),
    'content-type': 'application/json',
  }
}

/** An incoming webchat message from `userId` in `conversationId`, as Botpress delivers it. */
export async function incomingMessage(bot, { userId, conversationId, text = 'hi', id = `m-${Math.random()}` }) {
  const now = new Date().toISOString()
  const message = { id, createdAt: now, updatedAt: now, type: 'text', payload: { text }, direction: 'incoming', userId, conversationId, tags: {} }
  const event = {
    id: `evt-${id}`, createdAt: now, type: 'message_created', payload: { message, user: { id: userId, createdAt: now, updatedAt: now, tags: {} }, conversation: { id: conversationId, createdAt: now, updatedAt: now, channel: 'channel', integration: 'webchat', tags: {} } },
    conversationId, userId, messageId: id, status: 'pending', failureReason: null,
  }
  const response = await bot.handler({ method: 'POST', path: '/', query: '', headers: headers('event_received', 'message_created'), body: JSON.stringify({ event }) })
  if ((response?.status ?? 200) !== 200) throw new Error(`message: HTTP ${response.status}: ${response.body}`)
}

/** Calls one of the plugin's actions as Botpress does; returns its output. */
export async function callAction(bot, type, input) {
  const response = await bot.handler({ method: 'POST', path: '/', query: '', headers: headers('action_triggered', type), body: JSON.stringify({ type, input }) })
  const body = response?.body ? JSON.parse(response.body) : undefined
  if ((response?.status ?? 200) !== 200) throw new Error(`${type}: HTTP ${response.status}: ${body?.message ?? response.body}`)
  return body.output
}
