// What the bot owner fills in when installing the integration (Studio → Integrations → Autoplay).
import { z } from '@botpress/sdk'
import { sharedConfiguration } from './shared-configuration.js'

const shared = sharedConfiguration(z)

export const configuration = z.object({
  webhookSecret: z
    .string()
    .min(16)
    .secret()
    .title('Webhook secret')
    .describe(
      "16+ characters, shared with the sender: the streamer's --webhook-secret, or the Autoplay connector's push-mode secret. Requests without a valid X-Connector-Signature are refused."
    ),
  identitySecret: shared.identitySecret,
  maxIdentityLifetimeSeconds: shared.maxIdentityLifetimeSeconds,
  windowMs: shared.windowMs,
  maxEvents: shared.maxEvents,
  layout: z
    .enum(['sessions', 'events'])
    .default('sessions')
    .title('Table layout')
    .describe(
      "Where activity is stored: 'sessions' (AutoPlaySessionsTable, one row per session: the streamer's default) or 'events' (AutoPlayEventsTable and AutoPlayEventsSummaryTable, the tables of the original guide and of the webhook path)."
    ),
  matchUserBy: shared.matchUserBy,
})

export type Configuration = z.infer<typeof configuration>
