// Whose activity a chat may read: the ids the bot passes (trusted as they are), or, with
// `identitySecret` set, only the ids of a valid identity token. `matchUserBy` picks which ids
// scope the queries.
import { type Identity, verifyIdentity } from './identity.js'
import type { Configuration } from '../definitions/index.js'

export type Scope = { userId?: string; sessionId?: string }

const NEEDS: Record<Configuration['matchUserBy'], string> = {
  userId: 'a user id (sub)',
  sessionId: 'a session id (sid)',
  userAndSession: 'both a user id (sub) and a session id (sid)',
}

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

/** The chat's scope under the configuration, whether a token vouched for it, and why it is empty. */
export async function resolveScope(config: Configuration, ids: Scope & { identityToken?: string }): Promise<Identity> {
  const identity = config.identitySecret
    ? await verifyIdentity(ids.identityToken, config.identitySecret)
    : { scope: ids, verified: false }
  if (identity.reason) return identity
  const scope = pickScope(config.matchUserBy, identity.scope)
  if (scope.userId || scope.sessionId) return { ...identity, scope }
  const source = identity.verified ? 'the identity token does not carry' : 'the bot did not pass'
  return { scope, verified: identity.verified, reason: `${source} ${NEEDS[config.matchUserBy]} (matchUserBy=${config.matchUserBy}): nothing is read` }
}
