// Who is chatting, when the host app vouches for it: a short-lived HS256 JSON Web Token its
// backend issues (`sub` = Autoplay user id, `sid` = session id, optional; `exp` required) — the
// form Botpress's own Chat integration uses for user keys — passed by the webchat as user data.
// With `identitySecret` set, the context and link actions use only the ids of a valid token.
import { jwtVerify } from 'jose'

import type { Scope } from './scope.js'

/** Whose activity a chat may read, and why. */
export type Identity = { scope: Scope; verified: boolean; reason?: string }

const CLOCK_TOLERANCE_SECONDS = 30

/** The ids of a valid `token`, or an empty scope with the reason it is not valid. */
export async function verifyIdentity(token: string | undefined, secret: string): Promise<Identity> {
  if (!token?.trim()) {
    return { scope: {}, verified: false, reason: 'no identity token: the webchat must pass the one your backend issues' }
  }
  try {
    const { payload } = await jwtVerify(token.trim(), new TextEncoder().encode(secret), {
      algorithms: ['HS256'],
      requiredClaims: ['sub', 'exp'],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
    })
    const sessionId = typeof payload.sid === 'string' && payload.sid ? payload.sid : undefined
    return { scope: { userId: payload.sub, ...(sessionId ? { sessionId } : {}) }, verified: true }
  } catch (err) {
    const code = (err as { code?: string }).code
    const reason =
      code === 'ERR_JWT_EXPIRED'
        ? 'the identity token has expired: the host app must issue a fresh one'
        : code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'
          ? 'the identity token is not signed with the configured identitySecret'
          : `the identity token is not valid: ${err instanceof Error ? err.message : String(err)}`
    return { scope: {}, verified: false, reason }
  }
}
