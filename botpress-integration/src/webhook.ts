// The integration's webhook: verifies the signature, decodes the body with the WASM core, drops
// batches already seen, and turns each batch into an `actionsReceived` event a workflow can
// start from (with its table rows ready), a streamer trigger into `triggerFired`, and a
// connector summary into `summaryReceived`.
import { createHash } from 'node:crypto'

import type * as sdk from '@botpress/sdk'
import * as autoplay from 'autoplay-botpress/inline'

import { describe } from './errors.js'
import { configuration } from './schemas.js'
import { SIGNATURE_HEADER, verify } from './signature.js'
import type { Autoplay } from './types.js'

type Props = Parameters<sdk.IntegrationProps<Autoplay>['handler']>[0]
type Response = { status: number; headers: Record<string, string>; body: string }

const MAX_BODY_BYTES = 1 << 20
/** How many batch ids are remembered for de-duplication (the integration state holds them). */
const REMEMBERED_BATCHES = 500

function reply(status: number, body: Record<string, unknown>): Response {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }
}

function header(headers: Record<string, string | undefined>, name: string): string | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name)
  return key === undefined ? undefined : headers[key]
}

type Client = Props['client']

/**
 * Runs `emit` unless `id` (a batch or trigger id) was handled before, then records it with the
 * most recent ones; the state is read once. Returns whether `emit` ran.
 */
async function once(client: Client, integrationId: string, id: string, emit: () => Promise<unknown>): Promise<boolean> {
  const { state } = await client.getOrSetState({
    type: 'integration',
    id: integrationId,
    name: 'recentBatches',
    payload: { ids: [] },
  })
  const seen: string[] = Array.isArray(state.payload?.ids) ? state.payload.ids : []
  if (seen.includes(id)) {
    return false
  }
  await emit()
  const ids = [...seen, id].slice(-REMEMBERED_BATCHES)
  await client.setState({ type: 'integration', id: integrationId, name: 'recentBatches', payload: { ids } })
  return true
}

export async function handleWebhook({ req, client, ctx, logger }: Props): Promise<Response> {
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
  if (!verify(config.data.webhookSecret, raw, signature)) {
    return reply(401, { error: 'X-Connector-Signature does not match the body and the configured secret' })
  }

  let parsed: autoplay.WebhookBody
  let rows: autoplay.EventRow[] = []
  try {
    parsed = autoplay.parseWebhookBody(raw)
    if (parsed.kind === 'actions') {
      rows = autoplay.mapActionsToRows(parsed.batch)
    }
  } catch (err) {
    return reply(400, { error: describe(err) })
  }

  if (parsed.kind === 'ignored') {
    return reply(202, { ignored: parsed.type })
  }
  if (parsed.kind === 'trigger') {
    const t = parsed.trigger
    const fresh = await once(client, ctx.integrationId, t.trigger_id, () =>
      client.createEvent({
        type: 'triggerFired',
        payload: {
          triggerId: t.trigger_id,
          trigger: t.trigger ?? 'unknown',
          description: t.signal?.description ?? '',
          message: t.message,
          userId: t.user_id ?? null,
          sessionId: t.session_id,
          productId: t.product_id,
          conversationId: t.conversation_id ?? null,
          signal: t.signal ?? {},
        },
      })
    )
    return fresh
      ? reply(200, { ok: true, event: 'triggerFired', triggerId: t.trigger_id })
      : reply(200, { ok: true, duplicate: true, triggerId: t.trigger_id })
  }
  if (parsed.kind === 'summary') {
    const s = parsed.summary
    await client.createEvent({
      type: 'summaryReceived',
      payload: { sessionId: s.session_id ?? null, productId: s.product_id, summary: s.summary, replaces: s.replaces },
    })
    return reply(200, { ok: true, event: 'summaryReceived' })
  }

  const batch = parsed.batch
  // The streamer's key; push-mode bodies have none, so their content is the key.
  const batchId =
    batch.batch_id ?? header(req.headers, 'idempotency-key') ?? createHash('sha256').update(raw).digest('hex').slice(0, 32)
  const fresh = await once(client, ctx.integrationId, batchId, () =>
    client.createEvent({
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
  )
  return fresh
    ? reply(200, { ok: true, event: 'actionsReceived', batchId, rows: rows.length })
    : reply(200, { ok: true, duplicate: true, batchId })
}
