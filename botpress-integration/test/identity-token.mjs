// The identity token the host app's backend issues, for the tests of both packages (the plugin's
// import it from here): one builder, one test secret.
import { SignJWT } from 'jose'

export const IDENTITY_SECRET = 'identity-secret-0123456789abcdef0123'

/**
 * An identity token as the host app's backend issues it: HS256, `sub`, optional `sid`, `exp`
 * (an hour from now unless given), `iat` when `issuedAt` is given; `claims` adds (or overrides
 * with any type) whatever else.
 */
export function identityToken({ sub, sid, expiresAt = Math.floor(Date.now() / 1000) + 3600, issuedAt, claims = {}, secret = IDENTITY_SECRET }) {
  const all = { ...(sub === undefined ? {} : { sub }), ...(sid === undefined ? {} : { sid }), ...(issuedAt === undefined ? {} : { iat: issuedAt }), exp: expiresAt, ...claims }
  return new SignJWT(all).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret))
}
