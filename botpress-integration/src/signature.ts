// Who may POST to the webhook: bodies signed with the shared secret, in either form.
//   X-Connector-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
//     what the streamer sends: dated, so a captured request cannot be replayed after 5 minutes;
//   X-Connector-Signature: sha256=<hex HMAC-SHA256(secret, body)>
//     the connector's push mode: undated (a replay is then stopped by idempotent storage).
// Compared in constant time.
import { createHmac, timingSafeEqual } from 'node:crypto'

export const SIGNATURE_HEADER = 'x-connector-signature'
/** How far a dated signature may be from now, either way. */
export const MAX_SKEW_SECONDS = 300

function hmac(secret: string, ...parts: string[]): string {
  const mac = createHmac('sha256', secret)
  for (const part of parts) mac.update(part, 'utf8')
  return mac.digest('hex')
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(new Uint8Array(x), new Uint8Array(y))
}

/** A dated signature of `body`, as the streamer makes it. */
export function sign(secret: string, body: string, unixSeconds: number): string {
  return `t=${unixSeconds},v1=${hmac(secret, String(unixSeconds), '.', body)}`
}

/** The reason `signature` does not authenticate `body`, or `null` when it does. */
export function refusal(secret: string, body: string, signature: string, nowSeconds: number): string | null {
  const given = signature.trim()
  if (given.toLowerCase().startsWith('sha256=')) {
    return same(given.toLowerCase(), `sha256=${hmac(secret, body)}`) ? null : 'X-Connector-Signature does not match the body and the configured secret'
  }
  const fields = Object.fromEntries(given.split(',').map((f) => f.trim().split('=', 2) as [string, string]))
  const t = Number(fields.t)
  if (!fields.t || !Number.isInteger(t) || !fields.v1) {
    return 'X-Connector-Signature is neither t=<unix>,v1=<hex> nor sha256=<hex>'
  }
  if (Math.abs(nowSeconds - t) > MAX_SKEW_SECONDS) {
    return `X-Connector-Signature is dated ${t}, more than ${MAX_SKEW_SECONDS} s from now: a replay, or a clock to fix`
  }
  return same(fields.v1.toLowerCase(), hmac(secret, String(t), '.', body)) ? null : 'X-Connector-Signature does not match the body and the configured secret'
}
