// Shapes shared by several actions and events. The strict objects mirror what the WebAssembly
// core returns; test/contract.test.mjs parses real outputs with them, so the Rust structs, the
// package's .d.ts and these schemas cannot drift apart unnoticed.
import { z } from '@botpress/sdk'

/** A table row as a card reads it (`findTableRows`): any columns. */
export const tableRow = z.record(z.any())

const eventFields = {
  id: z.union([z.number(), z.string()]).optional().title('Row id').describe("Botpress's row id, on rows read back from the table"),
  createdAt: z.string().optional().title('Stored at').describe('When Botpress stored the row (ISO 8601), on rows read back from the table'),
  title: z.string().title('Title').describe('What kind of action, e.g. "Click element"'),
  description: z.string().title('Description').describe('What the user did, in words (personal data redacted)'),
  canonical_url: z.string().title('Page').describe('The page, with ids and query strings normalised'),
  user_id: z.string().nullable().title('User id').describe("Autoplay's user id"),
  product_id: z.string().title('Product id').describe("Autoplay's product id"),
  session_id: z.string().nullable().title('Session id').describe("Autoplay's session id"),
  action_type: z.string().title('Action type').describe('click, pageview, submit, …'),
  action_index: z.number().title('Action index').describe("The action's position in its session"),
  occurred_at: z.string().nullable().title('Occurred at').describe('When the user acted (ISO 8601), if known'),
  batch_id: z.string().nullable().title('Batch id').describe('The delivery it came in'),
}

/** An action as a row of AutoPlayEventsTable, and as the agent's context lists it. */
export const eventRow = z
  .object({
    ...eventFields,
    event_key: z
      .string()
      .title('Event key')
      .describe('<batch id>:<position> (<session id>:<index> for the sessions layout): the key rows are upserted on'),
  })
  .strict()

export const signal = z
  .object({
    kind: z
      .enum(['ping_pong', 'hesitation', 'dwell', 'rage_clicks', 'repeated_submits', 'flow_abandoned'])
      .title('Kind')
      .describe('Which friction pattern'),
    description: z.string().title('Description').describe('What the user did, e.g. went back and forth between two pages 3 times in 40 s'),
    evidence: z
      .object({
        pages: z.array(z.string()).title('Pages').describe('The pages involved, in the order they matter'),
        elements: z.array(z.string()).optional().title('Elements').describe('The elements clicked or submitted, if any'),
        count: z.number().title('Count').describe('How many times it happened'),
        from: z.string().title('From').describe('When it started (ISO 8601)'),
        to: z.string().title('To').describe('When it ended (ISO 8601)'),
      })
      .strict()
      .title('Evidence')
      .describe('What the signal is based on'),
  })
  .strict()

export const nudgeNote = z
  .object({
    id: z.string().title('Nudge id').describe('The trigger id it was sent under'),
    kind: z.string().title('Kind').describe('The friction it was about, e.g. rage_clicks'),
    message: z.string().title('Message').describe('What the user was shown'),
    sent_at: z.string().title('Sent at').describe('When it was sent (ISO 8601)'),
    outcomes: z
      .array(z.string())
      .title('Outcomes')
      .describe('What came of it so far: delivered or pending, replied / no_reply / reply_unknown, friction_stopped / friction_continued'),
  })
  .strict()

export const agentContext = z
  .object({
    userId: z.string().nullable().title('User id').describe('Whose activity this is'),
    sessionId: z.string().nullable().title('Session id').describe('The session it is limited to, if any'),
    summary: z.string().nullable().title('Summary').describe("The user's latest session summary, or null"),
    recentEvents: z.array(eventRow).title('Recent actions').describe("The user's actions inside the window, oldest first"),
    omittedEvents: z.number().title('Omitted actions').describe('Older actions in the window left out to stay within the caps'),
    windowMs: z.number().title('Window (ms)').describe('How far back "recent" went'),
    generatedAt: z.string().title('Generated at').describe('When the context was built (ISO 8601)'),
    signals: z.array(signal).title('Friction signals').describe('Signs the user is stuck, found in those actions'),
    nudges: z.array(nudgeNote).title('Nudges sent').describe('Nudges the user was already sent inside the window, oldest first, and what came of them'),
  })
  .strict()

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
