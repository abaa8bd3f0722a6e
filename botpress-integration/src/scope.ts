// Whose activity a chat may read: the ids the bot passes (trusted as they are), or, with
// `identitySecret` set, only the ids of a valid identity token. Either way the ids are read the
// same way (src/ids.ts). `matchUserBy` picks which ids scope the queries.
import { type Ids, readIds } from './ids.js'
import { verifyIdentity } from './identity.js'
import type { Configuration } from '../definitions/index.js'

/**
 * Whose activity a chat may read (`scope`, the ids `matchUserBy` needs; empty when they are
 * missing), every id the chat was identified with (`ids`), whether a token vouched for them, and
 * why nothing is read.
 */
export type Identity = { scope: Ids; ids: Ids; verified: boolean; reason?: string }

const NEEDS: Record<Configuration['matchUserBy'], string> = {
  userId: 'a user id (sub)',
  sessionId: 'a session id (sid)',
  userAndSession: 'both a user id (sub) and a session id (sid)',
}

/** The ids to match on; empty when the ones the setting needs were not given. */
export function pickScope(matchUserBy: Configuration['matchUserBy'], { userId, sessionId }: Ids): Ids {
  switch (matchUserBy) {
    case 'userId':
      return userId ? { userId } : {}
    case 'sessionId':
      return sessionId ? { sessionId } : {}
    case 'userAndSession':
      return userId && sessionId ? { userId, sessionId } : {}
  }
}

/** What `ids` lack to identify anyone under `matchUserBy` (e.g. "a user id (sub)"), or null. */
export function lacking(matchUserBy: Configuration['matchUserBy'], ids: Ids): string | null {
  const scope = pickScope(matchUserBy, ids)
  return scope.userId || scope.sessionId ? null : `${NEEDS[matchUserBy]} (matchUserBy=${matchUserBy})`
}

/** The chat's scope under the configuration, whether a token vouched for it, and why it is empty. */
export async function resolveScope(
  config: Pick<Configuration, 'identitySecret' | 'matchUserBy' | 'maxIdentityLifetimeSeconds'>,
  given: Ids & { identityToken?: string }): Promise<Identity> {
  const nobody = (verified: boolean, reason: string): Identity => ({ scope: {}, ids: {}, verified, reason })
  let ids: Ids
  if (config.identitySecret) {
    const verification = await verifyIdentity(given.identityToken, config.identitySecret, config.maxIdentityLifetimeSeconds)
    if (!verification.verified) return nobody(false, verification.reason)
    ids = verification.ids
  } else {
    const read = readIds(given, { userId: 'userId', sessionId: 'sessionId' })
    if ('problem' in read) return nobody(false, `${read.problem}: nothing is read`)
    ids = read.ids
  }
  const verified = Boolean(config.identitySecret)
  const absent = lacking(config.matchUserBy, ids)
  if (absent) return nobody(verified, `${verified ? 'the identity token does not carry' : 'the bot did not pass'} ${absent}: nothing is read`)
  return { scope: pickScope(config.matchUserBy, ids), ids, verified }
}
