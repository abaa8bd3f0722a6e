// Who is chatting: the webchat user data (what `window.botpress.updateUser({ data })` set, read
// with the webchat integration's getUserData action — what Studio's Get User Data card calls),
// checked under the same rules as the integration's actions (its identity.ts, ids.ts and scope.ts
// are imported, not copied: one set of rules for both packages). Besides the project's own
// identity token, the plugin accepts the identity Botpress already has: a Chat integration user
// key, verified with that integration's Encryption Key.
import { MAX_TOKEN_CHARS, verifyHs256 } from '../../botpress-integration/src/identity.js'
import { readId } from '../../botpress-integration/src/ids.js'
import { type Identity, lacking, pickScope, resolveScope } from '../../botpress-integration/src/scope.js'
import type { Configuration } from '../plugin.definition.js'
import type * as bp from '.botpress'

/** The webchat's user data keys the plugin reads. */
export const USER_DATA = {
  token: 'autoplayToken',
  chatUserKey: 'chatUserKey',
  userId: 'autoplayUserId',
  sessionId: 'autoplaySessionId',
} as const

/** The webchat user data of `userId`, or `{}` when the webchat has none (or is not the channel). */
export async function webchatUserData(client: bp.Client, userId: string): Promise<Record<string, unknown>> {
  const { output } = await client.callAction({ type: 'webchat:getUserData', input: { userId } })
  const data = (output as { userData?: unknown })?.userData
  return data && typeof data === 'object' ? (data as Record<string, unknown>) : {}
}

const text = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value : undefined)
const nobody = (reason: string): Identity => ({ scope: {}, ids: {}, verified: false, reason })

/**
 * The chatting user's Autoplay scope from their webchat user data, under the configuration.
 * A Chat user key is used when `chatEncryptionKey` is set and the data carries one, unless an
 * identity token is also there and `identitySecret` is set (the token also names the session).
 * With either secret set, unsigned ids are never trusted.
 */
export async function identify(config: Configuration, data: Record<string, unknown>): Promise<Identity> {
  const token = text(data[USER_DATA.token])
  const chatKey = text(data[USER_DATA.chatUserKey])
  if (config.chatEncryptionKey && !(config.identitySecret && token)) {
    if (chatKey) return chatKeyScope(config, chatKey, config.chatEncryptionKey)
    const either = config.identitySecret ? ` (or its identity token as ${USER_DATA.token})` : ''
    return nobody(`no Chat user key: the webchat must pass the key your backend signs as user data ${USER_DATA.chatUserKey}${either}`)
  }
  return resolveScope(config, { identityToken: token, userId: data[USER_DATA.userId] as string | undefined, sessionId: data[USER_DATA.sessionId] as string | undefined })
}

/** The scope a Chat user key vouches for: its `id` as the Autoplay user id, and no session. */
async function chatKeyScope(config: Configuration, key: string, encryptionKey: string): Promise<Identity> {
  const verification = await verifyChatUserKey(key, encryptionKey)
  if ('reason' in verification) return nobody(verification.reason)
  const ids = { userId: verification.userId }
  const absent = lacking(config.matchUserBy, ids)
  if (absent) return nobody(`a Chat user key names a user (claim id), never a session, and matchUserBy needs ${absent}: nothing is read`)
  return { scope: pickScope(config.matchUserBy, ids), ids, verified: true }
}

/**
 * The user id a Chat integration user key vouches for, verified as that integration verifies it
 * (`integrations/chat/src/auth-key.ts`: HS256 only, claim `id` a string; `exp` and `nbf` are
 * checked when present and a key without `exp` never expires), within MAX_TOKEN_CHARS, its id
 * read by the same rules as every other id. Reasons never quote the key.
 */
export async function verifyChatUserKey(key: string, encryptionKey: string): Promise<{ userId: string } | { reason: string }> {
  if (key.length > MAX_TOKEN_CHARS) return { reason: `the Chat user key is ${key.length} characters, longer than ${MAX_TOKEN_CHARS}` }
  const checked = await verifyHs256(key, encryptionKey)
  if ('refused' in checked) {
    return {
      reason: {
        expired: 'the Chat user key has expired',
        signature: 'the Chat user key is not signed with the configured chatEncryptionKey',
        invalid: `the Chat user key is not valid: ${checked.message}`,
      }[checked.refused],
    }
  }
  const { payload } = checked
  const read = readId("the Chat user key's id", payload.id)
  if ('problem' in read) return { reason: read.problem }
  return read.id ? { userId: read.id } : { reason: "the Chat user key carries no id claim" }
}
