// The configuration fields the integration and the plugin (botpress-plugin/plugin.definition.ts)
// both offer, declared once. Each package passes its own `z`: importing the sdk here would bundle
// a second copy of it (from this package's node_modules) into the plugin.
import type { z as zui } from '@botpress/sdk'
// The core's bounds for the context options (pkg/limits.json), so Studio accepts exactly what it does.
import limits from 'autoplay-botpress/limits.json'

/** A context option as the core bounds it: a whole number in pkg/limits.json's range. */
export function coreBounded(z: typeof zui, option: 'windowMs' | 'maxEvents') {
  return z.number().int().min(limits[option].min).max(limits[option].max)
}

export function sharedConfiguration(z: typeof zui) {
  return {
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
    windowMs: coreBounded(z, 'windowMs')
      .default(limits.windowMs.default)
      .title('Recent window (ms)')
      .describe(
        `How far back the "recent actions" handed to the agent go, in milliseconds. Default ${limits.windowMs.default} (two minutes).`
      ),
    maxEvents: coreBounded(z, 'maxEvents')
      .default(limits.maxEvents.default)
      .title('Most actions for the agent')
      .describe(
        `The most recent actions handed to the agent per chat turn (the newest are kept). Default ${limits.maxEvents.default}.`
      ),
    matchUserBy: z
      .enum(['userId', 'sessionId', 'userAndSession'])
      .default('userId')
      .title('Match the chatting user by')
      .describe(
        "Which ids decide whose activity a chat sees: 'userId' (all of the user's sessions), 'sessionId' (the current browser session only) or 'userAndSession' (both must match)."
      ),
  }
}
