// The bench's Botpress API, in a process of its own so the plugin process's memory is the
// plugin's: the tests' loopback fake (test/harness.mjs: request bodies checked against
// @botpress/client 1.35.0, users found by tag through an index). Driven over IPC by links.mjs.
import { startBotpressApi } from '../test/harness.mjs'

const api = await startBotpressApi({ record: false })

/** `template`'s tag values with user 0's ids replaced by user `i`'s. */
const tagsOf = (template, i) => Object.fromEntries(Object.entries(template).map(([k, v]) => [k, v.replace(/-0$/, `-${i}`)]))

const ops = {
  url: () => api.url,
  /** How many requests of each operation the plugin has made so far. */
  ops: () => ({ ...api.ops }),
  userData: ({ entries }) => void Object.assign(api.userData, entries),
  rows: ({ table, rows }) => void (api.tables[table] = [...(api.tables[table] ?? []), ...rows]),
  entity: ({ kind, id }) => api[kind][id],
  /** Users (and their conversations) `from`..`to` - 1 linked with the tags the plugin wrote for user 0. */
  seed: ({ from, to, user, conversation }) => {
    for (let i = from; i < to; i++) {
      api.restore('users', { id: `bp-${i}`, tags: tagsOf(user, i), createdAt: new Date().toISOString() })
      api.restore('conversations', { id: `conv-${i}`, tags: tagsOf(conversation, i), createdAt: new Date().toISOString() })
    }
  },
  rss: () => process.memoryUsage().rss,
}

process.on('message', ({ id, op, args }) => process.send({ id, value: ops[op](args) }))
process.send({ ready: true })
