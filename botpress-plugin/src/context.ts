// The chatting user's live context: one read of the sessions table (the name configured), built
// and rendered by the WebAssembly core, whose queries decide whose rows are read.
import * as autoplay from 'autoplay-botpress/inline'

import type { Ids } from '../../botpress-integration/src/ids.js'
import type { Configuration } from '../plugin.definition.js'
import type * as bp from '.botpress'

/** The rendered context of `scope` now; empty text when the scope names nobody. */
export async function liveContext(client: bp.Client, config: Configuration, scope: Ids, now: Date) {
  const options = { ...scope, now: now.getTime(), windowMs: config.windowMs, maxEvents: config.maxEvents, layout: 'sessions' as const }
  const { reads, scoped } = autoplay.contextQueries(options)
  if (!scoped) return ''
  const rows: Record<string, unknown[]> = {}
  for (const read of reads) {
    const table = read.table === 'AutoPlaySessionsTable' ? config.sessionsTable : read.table
    const found = await client.findTableRows({ table, ...read.query } as unknown as Parameters<bp.Client['findTableRows']>[0])
    rows[read.input] = found.rows
  }
  const context = autoplay.buildAgentContext({ ...options, ...rows })
  return autoplay.renderAgentContext(context, { maxChars: config.maxChars })
}
