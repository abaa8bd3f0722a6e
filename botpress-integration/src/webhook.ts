// The integration's webhook: verifies the signature and the delivery's date, refuses a replay
// of anything it accepted within that date's window (src/replay-guard.ts), decodes (and
// redacts) the body with the WASM core, and turns
// - a batch into an `actionsReceived` event with its rows ready to upsert on `event_key`,
// - a streamer trigger into a `triggerFired` event in the conversation linked to the same user
//   (and session, when matched on; or, with none linked, a nudge kept for the next conversation
//   that links them),
// - a connector summary into `summaryReceived`.
// The `seen` map of batch and trigger ids spares the events a sender's own retry (signed anew)
// would cost; rows are idempotent anyway (upserted on their key).
import { createHash } from 'node:crypto'

import * as autoplay from 'autoplay-botpress/inline'

import { describe } from './errors.js'
import { readId, readIds } from './ids.js'
import { matchKey, stores } from './links.js'
import { ReplayGuard } from './replay-guard.js'
import { lacking } from './scope.js'
import { type Configuration, configuration } from '../definitions/index.js'
import { MAX_SKEW_SECONDS, SIGNATURE_HEADER, staleness, verify } from './signature.js'
import type * as bp from '.botpress'

type Response = { status: number; headers: Record<string, string>; body: string }

const MAX_BODY_BYTES = 1 << 20

function reply(status: number, body: Record<string, unknown>, headers: Record<string, string> = {}): Response {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }
}

function header(headers: Record<string, string | undefined>, name: string): string | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name)
  return key === undefined ? undefined : headers[key]
}

type Handled = Exclude<autoplay.WebhookBody, { kind: 'ignored' }>

/** The date a body carries itself (unix seconds), for push-mode bodies whose signature is undated. */
function bodyDate(parsed: Handled): [field: string, seconds: number] {
  switch (parsed.kind) {
    case 'actions':
      return ['forwarded_at', parsed.batch.forwarded_at]
    case 'summary':
      return ['forwarded_at', parsed.summary.forwarded_at]
    case 'trigger':
      return ['fired_at', (Date.parse(parsed.trigger.fired_at) || 0) / 1000]
  }
}

export async function handleWebhook({ req, client, ctx, logger }: bp.HandlerProps): Promise<Response> {
  if (req.method.toUpperCase() !== 'POST') {
    return reply(405, { error: 'only POST is accepted' })
  }
  const config = configuration.safeParse(ctx.configuration)
  if (!config.success) {
    logger.forBot().error(`autoplay integration is not configured: ${config.error.message}`)
    return reply(500, { error: 'the integration is not configured (webhookSecret)' })
  }
  const raw = req.body ?? ''
  if (Buffer.byteLength(raw) > MAX_BODY_BYTES) {
    return reply(413, { error: `body larger than ${MAX_BODY_BYTES} bytes` })
  }
  const signature = header(req.headers, SIGNATURE_HEADER)
  if (!signature) {
    return reply(401, { error: 'missing X-Connector-Signature header' })
  }
  const now = Date.now()
  const nowSeconds = Math.floor(now / 1000)
  const signed = verify(config.data.webhookSecret, raw, signature, nowSeconds)
  if ('refused' in signed) {
    return reply(401, { error: signed.refused })
  }

  let parsed: autoplay.WebhookBody
  try {
    parsed = autoplay.parseWebhookBody(raw)
  } catch (err) {
    return reply(400, { error: describe(err) })
  }
  if (parsed.kind === 'ignored') return reply(202, { ignored: parsed.type })

  let date = signed.t
  if (date === undefined) {
    const [field, seconds] = bodyDate(parsed)
    if (!seconds) {
      return reply(401, { error: `a push-mode (sha256=) body must carry its date in ${field}: without one it could be replayed at any time` })
    }
    const stale = staleness(`the push-mode body's ${field}`, Math.floor(seconds), nowSeconds)
    if (stale) return reply(401, { error: stale })
    date = Math.floor(seconds)
  }
  const guard = new ReplayGuard(client, ctx.integrationId)
  const admission = await guard.admit(signed.digest, date + MAX_SKEW_SECONDS + 1, nowSeconds)
  if (admission.verdict === 'replay') {
    return reply(200, { ok: true, duplicate: true })
  }
  if (admission.verdict === 'full') {
    logger.forBot().warn(`Autoplay: more deliveries in the last ${MAX_SKEW_SECONDS} s than the replay guard holds: answered 503`)
    return reply(
      503,
      { error: `too many deliveries within ${MAX_SKEW_SECONDS} s to guard them all against replays: retry later` },
      { 'retry-after': String(admission.retryAfterSeconds) }
    )
  }
  // A delivery that did not take effect is forgotten, so its sender's retry is not a "replay".
  let response: Response | undefined
  try {
    response = await deliver(parsed, raw, config.data, { client, ctx, logger, now })
    return response
  } finally {
    if (!response || response.status >= 400) await guard.release(signed.digest)
  }
}

type Context = Pick<bp.HandlerProps, 'client' | 'ctx' | 'logger'> & { now: number }

/** Acts on an authentic, fresh delivery. */
async function deliver(parsed: Handled, raw: string, config: Configuration, { client, ctx, logger, now }: Context): Promise<Response> {
  const { links, nudges, seen } = stores(client, ctx.integrationId)

  switch (parsed.kind) {
    case 'summary': {
      const s = parsed.summary
      await client.createEvent({
        type: 'summaryReceived',
        payload: { sessionId: s.session_id ?? null, productId: s.product_id, summary: s.summary, replaces: s.replaces },
      })
      return reply(200, { ok: true, event: 'summaryReceived' })
    }

    case 'trigger': {
      const t = parsed.trigger
      const triggerId = readId('trigger_id', t.trigger_id)
      const ids = readIds({ userId: t.user_id, sessionId: t.session_id }, { userId: 'user_id', sessionId: 'session_id' })
      if ('problem' in triggerId) return reply(400, { error: triggerId.problem })
      if (!triggerId.id) return reply(400, { error: 'trigger_id is blank' })
      const triggerKey = triggerId.id
      if ('problem' in ids) return reply(400, { error: ids.problem })
      const key = matchKey(config.matchUserBy, ids.ids)
      if (!key) {
        const reason = `the trigger lacks ${lacking(config.matchUserBy, ids.ids)}: no conversation can be told apart for it`
        logger.forBot().warn(`Autoplay: trigger ${triggerKey} dropped: ${reason}`)
        return reply(202, { ok: true, dropped: true, reason, triggerId: triggerKey })
      }
      const id = `trigger:${triggerKey}`
      if (await seen.find([id], now)) {
        return reply(200, { ok: true, duplicate: true, triggerId: triggerKey })
      }
      const nudge = {
        triggerId: triggerKey,
        trigger: t.trigger ?? 'unknown',
        message: t.message,
        description: t.signal?.description ?? '',
        sessionId: t.session_id,
        productId: t.product_id,
      }
      const link = await links.find([key], now)
      if (link) {
        const [, { conversationId, userId }] = link
        await client.createEvent({
          type: 'triggerFired',
          conversationId,
          userId,
          payload: { ...nudge, userId: t.user_id ?? null, conversationId, signal: t.signal ?? {} },
        })
      } else {
        await nudges.put({ [key]: { ...nudge, at: now } }, now)
      }
      await seen.put({ [id]: { at: now } }, now)
      return link
        ? reply(200, { ok: true, event: 'triggerFired', triggerId: triggerKey, conversationId: link[1].conversationId })
        : reply(202, { ok: true, pending: true, triggerId: triggerKey })
    }

    case 'actions': {
      const batch = parsed.batch
      const given = readId('batch_id', batch.batch_id)
      if ('problem' in given) return reply(400, { error: given.problem })
      // The streamer's key; push-mode bodies have none, so their content is the key.
      const batchId = given.id ?? createHash('sha256').update(raw).digest('hex').slice(0, 32)
      batch.batch_id = batchId
      let rows: autoplay.EventRow[]
      try {
        rows = autoplay.mapActionsToRows(batch)
      } catch (err) {
        return reply(400, { error: describe(err) })
      }
      const id = `batch:${batchId}`
      if (await seen.find([id], now)) {
        return reply(200, { ok: true, duplicate: true, batchId })
      }
      await client.createEvent({
        type: 'actionsReceived',
        payload: {
          batchId,
          userId: batch.user_id ?? null,
          sessionId: batch.session_id ?? null,
          productId: batch.product_id ?? '',
          actionCount: batch.count,
          batch,
          rows,
        },
      })
      await seen.put({ [id]: { at: now } }, now)
      const skipped = parsed.skipped
      if (skipped) {
        logger
          .forBot()
          .warn(`Autoplay: batch ${batchId} of session ${batch.session_id ?? 'unknown'}: left ${skipped.count} unreadable action(s) out, first ${skipped.first}`)
        return reply(200, { ok: true, event: 'actionsReceived', batchId, rows: rows.length, skipped: skipped.count })
      }
      return reply(200, { ok: true, event: 'actionsReceived', batchId, rows: rows.length })
    }
  }
}
