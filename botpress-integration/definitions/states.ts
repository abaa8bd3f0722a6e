// Small maps the integration keeps in its own states, one key per entry, each entry stamped with
// its time (src/keyed-state.ts): merged key by key, so concurrent writers never lose an entry.
import { z } from '@botpress/sdk'

import { nudgeFields } from './shapes.js'

const at = z.number().title('At').describe('When the entry was written (unix milliseconds)')
const keyed = (entry: z.ZodRawShape, what: string) =>
  z
    .object({})
    .catchall(z.object({ at, ...entry }).nullable())
    .title(what)
    .describe(`${what}, by key: the JSON array [Autoplay user id, session id], or a delivery id`)

export const states = {
  links: {
    type: 'integration' as const,
    schema: keyed(
      {
        conversationId: z.string().title('Conversation id').describe('The conversation the user chats in'),
        userId: z.string().title('Botpress user id').describe('The Botpress user chatting there'),
      },
      'Conversation links'
    ),
  },
  nudges: {
    type: 'integration' as const,
    schema: keyed(nudgeFields, 'Waiting nudges'),
  },
  seen: {
    type: 'integration' as const,
    schema: keyed({}, 'Handled deliveries'),
  },
  replays: {
    type: 'integration' as const,
    schema: z
      .object({})
      .catchall(z.number().nullable())
      .title('Accepted signatures')
      .describe('Digest of each accepted signed delivery, and until when (unix seconds) its signature could be replayed'),
  },
}
