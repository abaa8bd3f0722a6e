// Which of the chatting user's Autoplay ids scope a query, per the `matchUserBy` setting.
import type { Configuration } from './schemas.js'

export type Scope = { userId?: string; sessionId?: string }

/** The ids to match on; empty when the ones the setting needs were not given. */
export function pickScope(matchUserBy: Configuration['matchUserBy'], ids: Scope): Scope {
  const userId = ids.userId?.trim() || undefined
  const sessionId = ids.sessionId?.trim() || undefined
  switch (matchUserBy) {
    case 'userId':
      return userId ? { userId } : {}
    case 'sessionId':
      return sessionId ? { sessionId } : {}
    case 'userAndSession':
      return userId && sessionId ? { userId, sessionId } : {}
  }
}
