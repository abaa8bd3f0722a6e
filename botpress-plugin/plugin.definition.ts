// What Botpress shows and validates for the plugin: configuration, the tags that hold each
// user's link to their Autoplay activity, the pending-nudge table and the agent's action.
// `bp lint` does not cover plugins, so every field is titled and described here by hand.
import { PluginDefinition, z } from '@botpress/sdk'
// The fields it shares with the integration, declared there once.
import { sharedConfiguration } from '../botpress-integration/definitions/shared-configuration.js'

const shared = sharedConfiguration(z)

export const configuration = z.object({
  identitySecret: shared.identitySecret.describe(
    "Optional, 32+ characters. Your backend signs each user's identity token with it (HS256: sub = Autoplay user id, sid = session id, exp) and the webchat passes it as user data `autoplayToken`. When set, a chat only ever sees the activity of the user its token names. When neither this nor the Chat integration encryption key is set, the ids the webchat passes (`autoplayUserId`, `autoplaySessionId`) are trusted as they are."
  ),
  chatEncryptionKey: z
    .string()
    .min(1)
    .secret()
    .optional()
    .title('Chat integration encryption key')
    .describe(
      "Optional: the Encryption Key configured in your bot's Chat integration. Set it when your backend already signs Chat user keys (HS256 JWT, claim id = the user's id) and the webchat passes that key as user data `chatUserKey`: the plugin verifies it with this key and uses its id as the Autoplay user id. When this or the identity secret is set, unsigned ids are never trusted."
    ),
  maxIdentityLifetimeSeconds: shared.maxIdentityLifetimeSeconds,
  matchUserBy: shared.matchUserBy,
  sessionsTable: z
    .string()
    .min(1)
    .default('AutoPlaySessionsTable')
    .title('Sessions table')
    .describe("The table the streamer writes one row per session into (its --sessions-table). Default AutoPlaySessionsTable."),
  windowMs: shared.windowMs,
  maxEvents: shared.maxEvents,
  maxChars: z
    .number()
    .int()
    .min(200)
    .max(20000)
    .default(4000)
    .title('Longest context (characters)')
    .describe('The most characters of live context the agent gets per call. Default 4000.'),
})

export type Configuration = z.infer<typeof configuration>

/** The pending-nudge table: one row per nudge the streamer could not deliver at once. */
export const PENDING_NUDGES_TABLE = 'AutoPlayPendingNudgesTable'

const nudgeChoice = z
  .object({
    title: z.string().title('Title').describe('What the button shows'),
    value: z.string().title('Value').describe('What the bot receives when the user picks it'),
  })
  .title('Choice')
  .describe('A quick reply offered with the nudge')

export default new PluginDefinition({
  name: 'autoplay',
  version: '0.1.0',
  title: 'Autoplay live activity',
  description:
    'Your agent sees what the chatting user is doing in your product right now, and nudges them in their chat when they struggle. No code card, no variable.',
  icon: 'icon.svg',
  readme: 'hub.md',
  configuration: { schema: configuration },
  user: {
    tags: {
      autoplayUserId: { title: 'Autoplay user id', description: 'The Autoplay user this Botpress user was verified as' },
      autoplaySessionId: { title: 'Autoplay session id', description: 'The Autoplay session the user last chatted from' },
      conversationId: { title: 'Conversation', description: 'The conversation the user last wrote in: where nudges go' },
    },
  },
  conversation: {
    tags: {
      autoplayUserId: { title: 'Autoplay user id', description: 'The Autoplay user chatting here' },
      autoplaySessionId: { title: 'Autoplay session id', description: 'The Autoplay session chatting here' },
    },
  },
  message: {
    tags: {
      nudgeId: { title: 'Nudge id', description: 'The nudge this bot message delivers: a re-delivery creates no second message' },
    },
  },
  tables: {
    [PENDING_NUDGES_TABLE]: {
      schema: z.object({
        key: z.string().title('Key').describe('user:<Autoplay user id> or session:<Autoplay session id>'),
        nudgeId: z.string().title('Nudge id').describe('The delivery id; the same nudge is never shown twice'),
        message: z.string().title('Message').describe('The text the user sees'),
        choices: z.array(nudgeChoice).title('Choices').describe('Quick replies; empty for a plain text message'),
        expiresAt: z.string().title('Expires at').describe('ISO time after which the nudge is no longer shown'),
      }),
      keyColumn: 'nudgeId',
    },
  },
  actions: {
    getLiveContext: {
      title: 'Get live activity',
      description:
        "What the chatting user is doing in the product right now: recent pages and clicks, a summary, signs they are stuck. Only ever that user's own activity.",
      input: {
        schema: z.object({
          conversationId: z
            .string()
            .title('Conversation id')
            .describe('The conversation the agent answers in ({{event.conversationId}})'),
        }),
      },
      output: {
        schema: z.object({
          text: z.string().title('Context').describe('The live context, ready for the prompt; empty when nothing is known'),
          identified: z.boolean().title('Identified').describe('Whether the chatting user is linked to Autoplay activity'),
          reason: z.string().nullable().title('Reason').describe('Why nothing was read, when nothing was'),
        }),
      },
    },
  },
})
