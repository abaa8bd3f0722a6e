// Autoplay's ids as the integration reads them: by the core's own rule (src/ids.rs, through the
// WASM package's `normalizeId`), so the ids a chat is scoped by are byte for byte the ids the
// streamer wrote its rows under. A blank id is no id; an id over 200 UTF-8 bytes is shortened to
// its first 160 bytes, `…#` and a SHA-256 digest (visible in the id itself, and stable); other
// ids are kept exactly, so an id with white space around it is refused rather than trimmed into
// someone else's.
import { normalizeId } from 'autoplay-botpress/inline'

/** The ids a chat is identified by; a missing one is absent, never blank. */
export type Ids = { userId?: string; sessionId?: string }

/** The id `value` stands for (`undefined` when blank, shortened when over-long), or why it is refused. */
export function readId(name: string, value: unknown): { id?: string } | { problem: string } {
  if (value === undefined || value === null) return {}
  if (typeof value !== 'string') return { problem: `${name} must be a string, not ${typeof value}` }
  if (value.trim() !== '' && value.trim() !== value) {
    return { problem: `${name} has leading or trailing white space: ids are matched exactly, so it is refused` }
  }
  const id = normalizeId(value)
  return id === null ? {} : { id }
}
/** Both ids, read with `readId` under the names given; the first problem when one is refused. */
export function readIds(
  values: { userId?: unknown; sessionId?: unknown },
  names: { userId: string; sessionId: string }
): { ids: Ids } | { problem: string } {
  const user = readId(names.userId, values.userId)
  if ('problem' in user) return user
  const session = readId(names.sessionId, values.sessionId)
  if ('problem' in session) return session
  return { ids: { ...(user.id ? { userId: user.id } : {}), ...(session.id ? { sessionId: session.id } : {}) } }
}
