// Which Botpress conversation each Autoplay user chats in, the nudges waiting for one, and the
// deliveries already handled — three small maps in integration states (see keyed-state.ts).

import { KeyedState } from './keyed-state.js'
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
/** Re-deliveries come within minutes (the streamer's retries); an hour covers them. */
export const SEEN_TTL_MS = 3_600_000

/** The keys an Autoplay user's entries live under: by user id, then by session id. */
export function keysOf(ids: { userId?: string | null; sessionId?: string | null }): string[] {
  return [ids.userId ? `user:${ids.userId}` : '', ids.sessionId ? `session:${ids.sessionId}` : ''].filter(Boolean)
}

export function stores(client: bp.Client, integrationId: string) {
  return {
    links: new KeyedState<Link>(client, integrationId, 'links', LINK_TTL_MS),
    nudges: new KeyedState<Nudge>(client, integrationId, 'nudges', NUDGE_TTL_MS),
    seen: new KeyedState<{ at: number }>(client, integrationId, 'seen', SEEN_TTL_MS),
  }
}
