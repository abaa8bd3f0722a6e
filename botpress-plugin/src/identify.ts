// Who is chatting: the webchat user data (what `window.botpress.updateUser({ data })` set, read
// with the webchat integration's getUserData action — what Studio's Get User Data card calls),
// checked under the same rules as the integration's actions (its identity.ts and scope.ts are
// imported, not copied: one set of rules for both packages).
import { type Identity, resolveScope } from '../../botpress-integration/src/scope.js'
import type { Configuration } from '../plugin.definition.js'
import type * as bp from '.botpress'

/** The webchat's user data keys the plugin reads. */
export const USER_DATA = { token: 'autoplayToken', userId: 'autoplayUserId', sessionId: 'autoplaySessionId' } as const

/** The webchat user data of `userId`, or `{}` when the webchat has none (or is not the channel). */
export async function webchatUserData(client: bp.Client, userId: string): Promise<Record<string, unknown>> {
  const { output } = await client.callAction({ type: 'webchat:getUserData', input: { userId } })
  const data = (output as { userData?: unknown })?.userData
  return data && typeof data === 'object' ? (data as Record<string, unknown>) : {}
}

/** The chatting user's Autoplay scope from their webchat user data, under the configuration. */
export function identify(config: Configuration, data: Record<string, unknown>): Promise<Identity> {
  return resolveScope(config, {
    identityToken: typeof data[USER_DATA.token] === 'string' ? (data[USER_DATA.token] as string) : undefined,
    userId: data[USER_DATA.userId] as string | undefined,
    sessionId: data[USER_DATA.sessionId] as string | undefined,
  })
}
