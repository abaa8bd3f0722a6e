// What the bot owner fills in when installing the integration (Studio → Integrations → Autoplay).
import { z } from '@botpress/sdk'

export const configuration = z.object({
  webhookSecret: z
    .string()
    .min(16)
    .secret()
    .title('Webhook secret')
    .describe(
      "16+ characters, shared with the sender: the streamer's --webhook-secret, or the Autoplay connector's push-mode secret. Requests without a valid X-Connector-Signature are refused."
    ),
  identitySecret: z
    .string()
    .min(32)
    .secret()
    .optional()
    .title('Identity secret')
    .describe(
      "Optional, 32+ characters. Your backend signs each user's identity token with it (HS256: sub = Autoplay user id, sid = session id, exp). When set, a chat only ever reads the activity of the user its token names. When empty, the ids the webchat passes are trusted as they are."
    ),
  windowMs: z
    .number()
    .int()
    .min(1_000)
    .max(86_400_000)
    .default(120_000)
    .title('Recent window (ms)')
    .describe('How far back the "recent actions" handed to the agent go, in milliseconds. Default 120000 (two minutes).'),
  maxEvents: z
    .number()
    .int()
    .min(1)
    .max(500)
    .default(50)
    .title('Most actions for the agent')
    .describe('The most recent actions handed to the agent per chat turn (the newest are kept). Default 50.'),
  layout: z
    .enum(['sessions', 'events'])
    .default('sessions')
    .title('Table layout')
    .describe(
      "Where activity is stored: 'sessions' (AutoPlaySessionsTable, one row per session: the streamer's default) or 'events' (AutoPlayEventsTable and AutoPlayEventsSummaryTable, the tables of the original guide and of the webhook path)."
    ),
  matchUserBy: z
    .enum(['userId', 'sessionId', 'userAndSession'])
    .default('userId')
    .title('Match the chatting user by')
    .describe(
      "Which ids decide whose activity a chat sees: 'userId' (all of the user's sessions), 'sessionId' (the current browser session only) or 'userAndSession' (both must match)."
    ),
})

export type Configuration = z.infer<typeof configuration>
