// Which Botpress conversation each Autoplay user chats in, the nudges waiting for one, and the
// deliveries already handled — three small maps in integration states (see keyed-state.ts).
// Links and nudges are keyed by every id the chat is matched on (`matchKey`), so a trigger only
// ever finds the conversation of the same user (and the same session when the configuration
// matches on sessions): a session id someone else copied leads nowhere.

import type { Ids } from './ids.js'
import { KeyedState } from './keyed-state.js'
import type { Configuration } from '../definitions/index.js'
import type * as bp from '.botpress'

/** A user's link to the conversation they chat in (with several tabs, the latest to link). */
export type Link = { conversationId: string; userId: string; at: number }

/** A nudge waiting for the user to open a conversation. */
export type Nudge = {
  triggerId: string
  trigger: string
  message: string
  description: string
  sessionId: string
  productId: string
  at: number
}

/** A link lives a day after the chat turn that renewed it. */
export const LINK_TTL_MS = 24 * 3_600_000
/** A nudge no conversation took within an hour is stale: the moment it was about has passed. */
export const NUDGE_TTL_MS = 3_600_000
/** The streamer's retries come within minutes; an hour covers them. */
export const SEEN_TTL_MS = 3_600_000

/**
 * The key of a chat's link and nudges: `[user id, session id]` as JSON (so no id can be crafted
 * to look like another pair), with the session only when `matchUserBy` matches on it, and the
 * user id whenever known. `undefined` when `ids` lack what `matchUserBy` needs.
 */
export function matchKey(matchUserBy: Configuration['matchUserBy'], { userId, sessionId }: Ids): string | undefined {
  const needsUser = matchUserBy !== 'sessionId'
  const needsSession = matchUserBy !== 'userId'
  if ((needsUser && !userId) || (needsSession && !sessionId)) return undefined
  return JSON.stringify([userId ?? null, needsSession ? sessionId : null])
}

export function stores(client: bp.Client, integrationId: string) {
  return {
    links: new KeyedState<Link>(client, integrationId, 'links', LINK_TTL_MS),
    nudges: new KeyedState<Nudge>(client, integrationId, 'nudges', NUDGE_TTL_MS),
    seen: new KeyedState<{ at: number }>(client, integrationId, 'seen', SEEN_TTL_MS),
  }
}
