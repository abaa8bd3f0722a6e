// Your backend: the identity token the webchat passes as `autoplayIdentityToken` (HS256 JWT).
// Node 16+, no dependency. The secret is the integration's identitySecret.
import { createHmac } from 'node:crypto'

const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url')

export function autoplayIdentity(userId, sessionId, ttlSeconds = 3600, secret = process.env.AUTOPLAY_IDENTITY_SECRET) {
  const now = Math.floor(Date.now() / 1000)
  const claims = { sub: userId, ...(sessionId ? { sid: sessionId } : {}), iat: now, exp: now + ttlSeconds }
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`
}
