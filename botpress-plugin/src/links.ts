// The link store: who a Botpress user and conversation are in Autoplay, kept in their own tags
// (one set per user, no cap, nothing in the plugin's memory). The streamer finds a user by the
// `<alias>#autoplayUserId` tag and writes its nudges into their `<alias>#conversationId`.
import type { Ids } from '../../botpress-integration/src/ids.js'
import type * as bp from '.botpress'

/** `tags` under the plugin's alias, as Botpress stores them (an empty value unsets a tag). */
const prefixed = (alias: string, tags: Record<string, string>) =>
  Object.fromEntries(Object.entries(tags).map(([name, value]) => [`${alias}#${name}`, value]))

/** Links `conversationId` and `userId` to `scope`: two tag writes, no read. */
export async function recordLink(client: bp.Client, alias: string, link: { userId: string; conversationId: string; scope: Ids }) {
  const tags = { autoplayUserId: link.scope.userId ?? '', autoplaySessionId: link.scope.sessionId ?? '' }
  await client.updateConversation({ id: link.conversationId, tags: prefixed(alias, tags) })
  await client.updateUser({ id: link.userId, tags: prefixed(alias, { ...tags, conversationId: link.conversationId }) })
}
