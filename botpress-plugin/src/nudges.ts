// Nudges as bot messages. The streamer creates them itself (createMessage into the conversation
// the user's tag names); when the user has none yet it leaves a row in the pending-nudge table,
// which the plugin shows — once, within its expiry — when the user next opens a conversation.
import { PENDING_NUDGES_TABLE } from '../plugin.definition.js'
import type * as bp from '.botpress'

type Choice = { title: string; value: string }
export type PendingNudge = { id: number; nudgeId: string; message: string; choices?: Choice[]; expiresAt: string }

/** The keys of a user's pending nudges (the streamer writes the same): by user id, by session id. */
export function pendingKeys(ids: { userId?: string; sessionId?: string }): string[] {
  return [ids.userId && `user:${ids.userId}`, ids.sessionId && `session:${ids.sessionId}`].filter((key): key is string => Boolean(key))
}

/** The message a nudge becomes: text, or a choice message when the trigger offers replies. */
export function nudgeMessage(nudge: { message: string; choices?: Choice[] | null }) {
  return nudge.choices?.length
    ? { type: 'choice', payload: { text: nudge.message, options: nudge.choices.map(({ title, value }) => ({ label: title, value })) } }
    : { type: 'text', payload: { text: nudge.message } }
}

/**
 * The request that shows `nudge` in `conversationId` as a bot message: get-or-create on the
 * nudge's tag, so a re-delivery (the streamer's retry, or the same nudge pending twice) creates
 * no second message. The streamer sends the same request (tests/fixtures/plugin-nudge.json).
 */
export function nudgeRequest(alias: string, botId: string, conversationId: string, nudge: { nudgeId: string; message: string; choices?: Choice[] | null }) {
  const tag = `${alias}#nudgeId`
  return { conversationId, userId: botId, tags: { [tag]: nudge.nudgeId }, discriminateByTags: [tag], ...nudgeMessage(nudge) }
}

/** Shows the user's unexpired pending nudges in `conversationId` and removes them (one read). */
export async function deliverPending(client: bp.Client, alias: string, botId: string, keys: string[], conversationId: string, now: Date) {
  const { rows } = await client.findTableRows({
    table: PENDING_NUDGES_TABLE,
    filter: { key: { $in: keys } },
    orderBy: 'createdAt',
    orderDirection: 'asc',
    limit: 20,
  })
  if (rows.length === 0) return 0
  const pending = rows as unknown as PendingNudge[]
  const fresh = pending.filter((row) => Date.parse(row.expiresAt) > now.getTime())
  const unique = [...new Map(fresh.map((row) => [row.nudgeId, row])).values()]
  // Removed first: a nudge is shown at most once, even if a delivery below fails.
  await client.deleteTableRows({ table: PENDING_NUDGES_TABLE, ids: pending.map((row) => row.id) })
  for (const nudge of unique) {
    await client.getOrCreateMessage(nudgeRequest(alias, botId, conversationId, nudge))
  }
  return unique.length
}
