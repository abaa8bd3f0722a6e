// What the bot owner fills in when installing the integration (Studio → Integrations → Autoplay).
import { z } from '@botpress/sdk'
// The core's bounds for these options (pkg/limits.json), so Studio accepts exactly what it does.
import limits from 'autoplay-botpress/limits.json'

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
  maxIdentityLifetimeSeconds: z
    .number()
    .int()
    .min(60)
    .max(30 * 86_400)
    .default(86_400)
    .title('Longest identity token lifetime (s)')
    .describe(
      'Identity tokens that live longer than this (exp − iat, or exp − now without iat) are refused, so a leaked token stops working soon. Default 86400 (a day).'
    ),
  windowMs: z
    .number()
    .int()
    .min(limits.windowMs.min)
    .max(limits.windowMs.max)
    .default(limits.windowMs.default)
    .title('Recent window (ms)')
    .describe(
      `How far back the "recent actions" handed to the agent go, in milliseconds. Default ${limits.windowMs.default} (two minutes).`
    ),
  maxEvents: z
    .number()
    .int()
    .min(limits.maxEvents.min)
    .max(limits.maxEvents.max)
    .default(limits.maxEvents.default)
    .title('Most actions for the agent')
    .describe(
      `The most recent actions handed to the agent per chat turn (the newest are kept). Default ${limits.maxEvents.default}.`
    ),
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
