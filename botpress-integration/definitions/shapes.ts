// Shapes shared by several actions and events. The rows, signals, nudges and context are the
// Rust types' own (pkg/schemas.json, see from-rust.ts); test/contract.test.mjs parses real
// outputs with all of them, so the package and these schemas cannot drift apart unnoticed.
import { z } from '@botpress/sdk'
import { fromRust } from './from-rust.js'

/** A table row as a card reads it (`findTableRows`): any columns. */
export const tableRow = z.record(z.any())

/** An action as a row of AutoPlayEventsTable, and as the agent's context lists it. */
export const eventRow = fromRust('EventRow')

/** The chatting user's context: summary, recent actions, friction signals, nudges already sent. */
export const agentContext = fromRust('AgentContext')

export const identity = z
  .object({
    verified: z.boolean().title('Verified').describe('True when a valid identity token vouched for the ids'),
    reason: z.string().nullable().title('Reason').describe('Why nothing was read or linked, e.g. an expired token; null otherwise'),
  })
  .strict()
  .title('Identity')
  .describe('Whose activity this chat may read, and why')

export const nudgeFields = {
  triggerId: z.string().title('Trigger id').describe('Unique per trigger: a re-delivery is recognised by it'),
  trigger: z.string().title('Trigger').describe('ping_pong, hesitation, dwell, rage_clicks, repeated_submits or flow_abandoned'),
  message: z.string().title('Message').describe('The suggested opening message'),
  description: z.string().title('What happened').describe('What the user did, e.g. "went back and forth between /pricing and /checkout 3 times in 40 s"'),
  sessionId: z.string().title('Session id').describe("Autoplay's session id"),
  productId: z.string().title('Product id').describe("Autoplay's product id"),
}

export const nudge = z.object(nudgeFields).strict()

export const tableQuery = z
  .object({
    filter: tableRow.title('Filter').describe('Botpress table filter'),
    limit: z.number().title('Limit').describe('Most rows to read'),
    orderBy: z.string().title('Order by').describe('Column to sort on'),
    orderDirection: z.string().title('Order direction').describe('desc: newest first'),
  })
  .strict()
