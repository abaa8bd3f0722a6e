// Links kept for 100,000 users, and what a chat turn costs at that size. The plugin runs inside a
// bot (dist/bot.cjs, the sdk's own bot server) in this process; the Botpress API is the tests'
// fake in a child process (bench/fake-api.mjs), holding every user's tags and finding users by
// tag as the streamer asks (`GET /v1/chat/users?tags.autoplay#autoplayUserId=…`).
//
// User 0 is linked through the plugin first; the tags it wrote are the template for the users
// linked before the bench (seeded, ids substituted), so the store holds `--users` users when the
// other `--turns` users chat. Each of those has a first turn (identified by a Chat user key),
// a later turn and a tool call. Then every user's link is looked up the streamer's way. Figures
// only: the one failure is a link not found.
//
//   node --expose-gc bench/links.mjs [--users 100000] [--turns 1000] [--concurrency 8]
import { fork } from 'node:child_process'
import { parseArgs } from 'node:util'

import { SignJWT } from 'jose'

import { callAction, incomingMessage, loadBot } from '../test/harness.mjs'

const { values } = parseArgs({ options: { users: { type: 'string', default: '100000' }, turns: { type: 'string', default: '1000' }, concurrency: { type: 'string', default: '8' } } })
const USERS = Number(values.users)
const TURNS = Math.min(Number(values.turns), USERS)
const CONCURRENCY = Number(values.concurrency)
const KEY = 'bench-chat-encryption-key-0123456789'
const TABLE = 'AutoPlaySessionsTable'

const child = fork(new URL('./fake-api.mjs', import.meta.url))
const pending = new Map()
let next = 0
child.on('message', (m) => pending.get(m.id)?.(m.value))
await new Promise((ready) => child.once('message', ready))
const rpc = (op, args) => new Promise((done) => {
  const id = next++
  pending.set(id, (value) => (pending.delete(id), done(value)))
  child.send({ id, op, args })
})

/** RSS and heap in use after a full collection (`node --expose-gc`), so garbage is not counted. */
const memory = () => (globalThis.gc?.(), { rss: process.memoryUsage().rss, heap: process.memoryUsage().heapUsed })
const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MiB`
const count = (n) => n.toLocaleString('en-US')
/** Runs `job(i)` for i in [from, to) with CONCURRENCY in flight. */
async function each(from, to, job) {
  let i = from
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (i < to) await job(i++)
  }))
}
/** Requests per operation made by `run`, per `turns`. */
async function requests(turns, run) {
  const before = await rpc('ops')
  const started = performance.now()
  await run()
  const seconds = (performance.now() - started) / 1000
  const after = await rpc('ops')
  const per = Object.entries(after).map(([op, n]) => [op, (n - (before[op] ?? 0)) / turns]).filter(([, n]) => n > 0)
  const total = per.reduce((sum, [, n]) => sum + n, 0)
  return { total, per: per.map(([op, n]) => `${op} ${+n.toFixed(2)}`).join(', '), rate: turns / seconds }
}

const userKey = (i) => new SignJWT({ id: `user-${i}` }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt().sign(new TextEncoder().encode(KEY))
const entries = {}
for (let i = 0; i < TURNS; i++) entries[`bp-${i}`] = { chatUserKey: await userKey(i) }
await rpc('userData', { entries })
const at = new Date(Date.now() - 5000).toISOString()
await rpc('rows', {
  table: TABLE,
  rows: Array.from({ length: TURNS }, (_, i) => ({
    id: i + 1, session_id: `s-${i}`, user_id: `user-${i}`, product_id: 'p', summary: null, action_count: 1, updatedAt: at, signals: [],
    actions: [{ index: 0, type: 'click', title: 'Click', description: `user-${i} opened pricing`, canonical_url: 'https://app/pricing', occurred_at: at }],
  })),
})

const bot = loadBot({ url: await rpc('url') }, { chatEncryptionKey: KEY })
const mem = { loaded: memory() }
const turn = (i, n) => incomingMessage(bot, { userId: `bp-${i}`, conversationId: `conv-${i}`, id: `m-${i}-${n}` })

await turn(0, 1)
const user = (await rpc('entity', { kind: 'users', id: 'bp-0' })).tags
const conversation = (await rpc('entity', { kind: 'conversations', id: 'conv-0' })).tags
if (user['autoplay#autoplayUserId'] !== 'user-0') throw new Error(`user 0 was not linked: ${JSON.stringify(user)}`)
await rpc('seed', { from: TURNS, to: USERS, user, conversation })
mem.seeded = memory()

const first = await requests(TURNS - 1, () => each(1, TURNS, (i) => turn(i, 1)))
mem.firstTurns = memory()
const later = await requests(TURNS, () => each(0, TURNS, (i) => turn(i, 2)))
let wrong = 0
const tool = await requests(TURNS, () => each(0, TURNS, async (i) => {
  const out = await callAction(bot, 'autoplay#getLiveContext', { conversationId: `conv-${i}` })
  if (!out.identified || !out.text.includes(`user-${i} opened pricing`) || /user-(?!\d+ opened)/.test(out.text)) wrong++
}))
mem.after = memory()

// Every user's link, the streamer's way: one lookup by tag, their conversation in the answer.
const url = await rpc('url')
let found = 0
const started = performance.now()
await each(0, USERS, async (i) => {
  const query = new URLSearchParams({ 'tags.autoplay#autoplayUserId': `user-${i}` })
  const { users } = await (await fetch(`${url}/v1/chat/users?${query}`)).json()
  if (users.length === 1 && users[0].tags['autoplay#conversationId'] === `conv-${i}`) found++
})
const lookups = USERS / ((performance.now() - started) / 1000)
child.kill()

console.log(`plugin link store: ${count(USERS)} users in Botpress user/conversation tags (${count(TURNS)} linked through the plugin during the run, the rest from user 0's tags)`)
console.log(`links found by the streamer's lookup (GET /v1/chat/users?tags.autoplay#autoplayUserId=…): ${count(found)} of ${count(USERS)}, lost ${count(USERS - found)}`)
console.log(`requests per chat turn, ${count(USERS)} users stored:`)
console.log(`  first turn of a conversation  ${first.total.toFixed(2)}  (${first.per})`)
console.log(`  later turn                    ${later.total.toFixed(2)}  (${later.per})`)
console.log(`  agent's tool call             ${tool.total.toFixed(2)}  (${tool.per}); wrong or foreign context: ${wrong}`)
const show = ({ rss, heap }) => `${mib(rss)} (heap ${mib(heap)})`
console.log(`plugin process RSS${globalThis.gc ? ', after a full GC' : ' (run with --expose-gc to collect first)'}: ${show(mem.loaded)} loaded, ${show(mem.seeded)} with 1 user linked, ${show(mem.firstTurns)} after ${count(TURNS)} first turns, ${show(mem.after)} after ${count(3 * TURNS)} turns and calls`)
console.log(`  heap in use: +${mib(mem.firstTurns.heap - mem.seeded.heap)} over the first turns, ${mib(mem.after.heap - mem.firstTurns.heap)} over the later turns and calls (the plugin keeps nothing per user; links live in Botpress)`)
console.log(`throughput here (loopback, shared machine; not a limit): ${first.rate.toFixed(0)} first turns/s, ${later.rate.toFixed(0)} later turns/s, ${tool.rate.toFixed(0)} tool calls/s, ${lookups.toFixed(0)} lookups/s`)
if (found !== USERS || wrong) process.exitCode = 1
