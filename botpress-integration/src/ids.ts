// Autoplay's ids as the integration accepts them: matched exactly, so an id with white space
// around it is refused rather than trimmed into someone else's, a blank id is no id, and an id
// longer than MAX_ID_BYTES is refused (it would fill prompts, rows and states).

/** Longest user or session id accepted, in UTF-8 bytes. */
export const MAX_ID_BYTES = 256

/** The ids a chat is identified by; a missing one is absent, never blank. */
export type Ids = { userId?: string; sessionId?: string }

/** The id `value` stands for (`undefined` when blank), or why it is refused. */
export function readId(name: string, value: unknown): { id?: string } | { problem: string } {
  if (value === undefined || value === null) return {}
  if (typeof value !== 'string') return { problem: `${name} must be a string, not ${typeof value}` }
  if (value.trim() === '') return {}
  if (value.trim() !== value) return { problem: `${name} has leading or trailing white space: ids are matched exactly, so it is refused` }
  const bytes = Buffer.byteLength(value)
  if (bytes > MAX_ID_BYTES) return { problem: `${name} is ${bytes} bytes, longer than ${MAX_ID_BYTES} bytes` }
  return { id: value }
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
