// Who may POST to the webhook: bodies signed with the shared secret, in either form.
//   X-Connector-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
//     what the streamer sends: dated, so a captured request is refused 5 minutes later;
//   X-Connector-Signature: sha256=<hex HMAC-SHA256(secret, body)>
//     the connector's push mode: the signature is undated, so the body must carry its own date
//     (`forwarded_at`), checked by the webhook against the same 5 minutes.
// Compared in constant time. A valid signature yields the digest of what it covers, which the
// replay guard (src/replay-guard.ts) remembers for as long as the signature is accepted.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'

export const SIGNATURE_HEADER = 'x-connector-signature'
/** How far a delivery's date may be from now, either way. */
export const MAX_SKEW_SECONDS = 300

/** What a valid signature vouches for: a digest of the signed bytes, and their date when signed. */
export type Signed = { digest: string; t?: number }

function hmac(secret: string, ...parts: string[]): string {
  const mac = createHmac('sha256', secret)
  for (const part of parts) mac.update(part, 'utf8')
  return mac.digest('hex')
}

/** 96 bits of SHA-256 over `parts`: a short name for signed content, as base64url. */
function digest(...parts: string[]): string {
  const hash = createHash('sha256')
  for (const part of parts) hash.update(part, 'utf8')
  return hash.digest().subarray(0, 12).toString('base64url')
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(new Uint8Array(x), new Uint8Array(y))
}

/** Why a delivery dated `t` (unix seconds, from `what`) is refused at `nowSeconds`, or null. */
export function staleness(what: string, t: number, nowSeconds: number): string | null {
  return Math.abs(nowSeconds - t) > MAX_SKEW_SECONDS
    ? `${what} is dated ${t}, more than ${MAX_SKEW_SECONDS} s from now: a replay, or a clock to fix`
    : null
}

const MISMATCH = 'X-Connector-Signature does not match the body and the configured secret'

/** What `signature` vouches for in `body`, or the reason it does not authenticate it. */
export function verify(secret: string, body: string, signature: string, nowSeconds: number): Signed | { refused: string } {
  const given = signature.trim()
  if (given.toLowerCase().startsWith('sha256=')) {
    return same(given.toLowerCase(), `sha256=${hmac(secret, body)}`) ? { digest: digest('sha256\n', body) } : { refused: MISMATCH }
  }
  const fields = Object.fromEntries(given.split(',').map((f) => f.trim().split('=', 2) as [string, string]))
  const t = Number(fields.t)
  if (!fields.t || !Number.isInteger(t) || !fields.v1) {
    return { refused: 'X-Connector-Signature is neither t=<unix>,v1=<hex> nor sha256=<hex>' }
  }
  const stale = staleness('X-Connector-Signature', t, nowSeconds)
  if (stale) return { refused: stale }
  return same(fields.v1.toLowerCase(), hmac(secret, String(t), '.', body)) ? { digest: digest('dated\n', String(t), '.', body), t } : { refused: MISMATCH }
}
