// The connector's push-mode signature, also sent by the streamer with --webhook-secret:
// `X-Connector-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>`, compared in constant time.
import { createHmac, timingSafeEqual } from 'node:crypto'

export const SIGNATURE_HEADER = 'x-connector-signature'

export function sign(secret: string, body: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(body, 'utf8').digest('hex')
}

export function verify(secret: string, body: string, signature: string): boolean {
  const expected = Buffer.from(sign(secret, body))
  const given = Buffer.from(signature.trim().toLowerCase())
  return given.length === expected.length && timingSafeEqual(new Uint8Array(given), new Uint8Array(expected))
}
