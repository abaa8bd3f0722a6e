// The integration's webhook: verifies the signature, decodes (and redacts) the body with the
// WASM core, and turns
// - a batch into an `actionsReceived` event with its rows ready to upsert on `event_key`,
// - a streamer trigger into a `triggerFired` event in the user's linked conversation (or, with
//   none linked, a nudge kept for the next conversation that links the user),
// - a connector summary into `summaryReceived`.
// Storage is what makes deliveries idempotent (rows are upserted on their key); the `seen` map
// only spares the events a sequential re-delivery would cost.
import { createHash } from 'node:crypto'

import * as autoplay from 'autoplay-botpress/inline'

import { describe } from './errors.js'
import { keysOf, stores } from './links.js'
import { configuration } from '../definitions/index.js'
import { SIGNATURE_HEADER, refusal } from './signature.js'
import type * as bp from '.botpress'

type Response = { status: number; headers: Record<string, string>; body: string }

const MAX_BODY_BYTES = 1 << 20

function reply(status: number, body: Record<string, unknown>): Response {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }
}

function header(headers: Record<string, string | undefined>, name: string): string | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name)
  return key === undefined ? undefined : headers[key]
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
  const refused = refusal(config.data.webhookSecret, raw, signature, Math.floor(now / 1000))
  if (refused) {
    return reply(401, { error: refused })
  }

  let parsed: autoplay.WebhookBody
  try {
    parsed = autoplay.parseWebhookBody(raw)
  } catch (err) {
    return reply(400, { error: describe(err) })
  }
  const { links, nudges, seen } = stores(client, ctx.integrationId)

  switch (parsed.kind) {
    case 'ignored':
      return reply(202, { ignored: parsed.type })

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
      const id = `trigger:${t.trigger_id}`
      if (await seen.find([id], now)) {
        return reply(200, { ok: true, duplicate: true, triggerId: t.trigger_id })
      }
      const nudge = {
        triggerId: t.trigger_id,
        trigger: t.trigger ?? 'unknown',
        message: t.message,
        description: t.signal?.description ?? '',
        sessionId: t.session_id,
        productId: t.product_id,
      }
      const keys = keysOf({ userId: t.user_id, sessionId: t.session_id })
      const link = await links.find(keys, now)
      if (link) {
        const [, { conversationId, userId }] = link
        await client.createEvent({
          type: 'triggerFired',
          conversationId,
          userId,
          payload: { ...nudge, userId: t.user_id ?? null, conversationId, signal: t.signal ?? {} },
        })
      } else {
        // Kept under the user's first key (the user id when known), so it is handed out once.
        await nudges.put(Object.fromEntries(keys.slice(0, 1).map((key) => [key, { ...nudge, at: now }])), now)
      }
      await seen.put({ [id]: { at: now } }, now)
      return link
        ? reply(200, { ok: true, event: 'triggerFired', triggerId: t.trigger_id, conversationId: link[1].conversationId })
        : reply(202, { ok: true, pending: true, triggerId: t.trigger_id })
    }

    case 'actions': {
      const batch = parsed.batch
      // The streamer's key; push-mode bodies have none, so their content is the key.
      batch.batch_id ??= header(req.headers, 'idempotency-key') ?? createHash('sha256').update(raw).digest('hex').slice(0, 32)
      const batchId = batch.batch_id
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
      return reply(200, { ok: true, event: 'actionsReceived', batchId, rows: rows.length })
    }
  }
}
