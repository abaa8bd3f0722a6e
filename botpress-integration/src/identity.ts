// Who is chatting, when the host app vouches for it: a short-lived HS256 JSON Web Token its
// backend issues (`sub` = Autoplay user id, `sid` = session id, optional; `exp` required, `iat`
// recommended) — the form Botpress's own Chat integration uses for user keys — passed by the
// webchat as user data. With `identitySecret` set, the context and link actions use only the ids
// of a valid token. A token is refused when it is over MAX_TOKEN_CHARS, lives longer than the
// configured maximum (`exp` − `iat`, or `exp` − now without `iat`), was issued in the future
// beyond the clock tolerance, or carries ids that are not plain strings (src/ids.ts).
import { type JWTPayload, jwtVerify } from 'jose'

import { type Ids, readIds } from './ids.js'

/** What a token proves: its ids, or why it proves nothing. */
export type Verification = { verified: true; ids: Ids } | { verified: false; reason: string }

/** How far the backend's clock may be from ours, either way. */
const CLOCK_TOLERANCE_SECONDS = 30
/** Longest token accepted: a token with `sub`, `sid`, `iat` and `exp` takes well under 1 KB. */
export const MAX_TOKEN_CHARS = 4096

const refused = (reason: string): Verification => ({ verified: false, reason })

/** Why a JWT was refused: it has expired, another key signed it, or jose's `message` says. */
export type Refusal = { refused: 'expired' | 'signature' | 'invalid'; message: string }

/**
 * The payload of an HS256 JSON Web Token that `key` signed (jose also checks `exp` and `nbf` when
 * present, and `options`), or why not. The plugin verifies Chat user keys with it too, so both
 * packages' bundles carry one jose.
 */
export async function verifyHs256(
  token: string,
  key: string,
  options: { requiredClaims?: string[]; clockTolerance?: number } = {}
): Promise<{ payload: JWTPayload } | Refusal> {
  try {
    const { payload } = await jwtVerify(token, new TextEncoder().encode(key), { algorithms: ['HS256'], ...options })
    return { payload }
  } catch (err) {
    const code = (err as { code?: string }).code
    const refused = code === 'ERR_JWT_EXPIRED' ? 'expired' : code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' ? 'signature' : 'invalid'
    return { refused, message: err instanceof Error ? err.message : String(err) }
  }
}

/** The ids of a valid `token`, or the reason it is not valid. */
export async function verifyIdentity(token: string | undefined, secret: string, maxLifetimeSeconds: number): Promise<Verification> {
  const given = token?.trim()
  if (!given) return refused('no identity token: the webchat must pass the one your backend issues')
  if (given.length > MAX_TOKEN_CHARS) return refused(`the identity token is ${given.length} characters, longer than ${MAX_TOKEN_CHARS} characters`)
  const checked = await verifyHs256(given, secret, { requiredClaims: ['sub', 'exp'], clockTolerance: CLOCK_TOLERANCE_SECONDS })
  if ('refused' in checked) {
    return refused(
      {
        expired: 'the identity token has expired: the host app must issue a fresh one',
        signature: 'the identity token is not signed with the configured identitySecret',
        invalid: `the identity token is not valid: ${checked.message}`,
      }[checked.refused]
    )
  }
  const { payload } = checked
  const now = Math.floor(Date.now() / 1000)
  if (payload.iat !== undefined && payload.iat > now + CLOCK_TOLERANCE_SECONDS) {
    return refused(`the identity token was issued in the future (iat ${payload.iat}, now ${now}): check the backend's clock`)
  }
  const lifetime = (payload.exp ?? now) - (payload.iat ?? now)
  if (lifetime > maxLifetimeSeconds) {
    return refused(
      `the identity token lives ${lifetime} s, longer than the allowed ${maxLifetimeSeconds} s (maxIdentityLifetimeSeconds): issue short-lived tokens`
    )
  }
  const read = readIds({ userId: payload.sub, sessionId: payload.sid }, { userId: "the identity token's sub", sessionId: "the identity token's sid" })
  if ('problem' in read) return refused(read.problem)
  return { verified: true, ids: read.ids }
}
