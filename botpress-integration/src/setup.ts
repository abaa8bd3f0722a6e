// Installing and removing the integration. Nothing outside Botpress has to be set up (the sender
// is told the webhook URL), so registering is checking the configuration and saying what is wrong.
import { RuntimeError } from '@botpress/client'

import { configuration } from '../definitions/index.js'
import type * as bp from '.botpress'

export const register: bp.IntegrationProps['register'] = async ({ ctx, logger }) => {
  const result = configuration.safeParse(ctx.configuration)
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || 'configuration'}: ${i.message}`)
    throw new RuntimeError(`The Autoplay integration's configuration is not valid: ${problems.join('; ')}`)
  }
  const config = result.data
  if (config.identitySecret && config.identitySecret === config.webhookSecret) {
    throw new RuntimeError(
      'The identity secret must differ from the webhook secret: whoever can sign deliveries could otherwise sign identities too'
    )
  }
  logger
    .forBot()
    .info(
      `Autoplay: ${config.layout} layout, users matched by ${config.matchUserBy}, identities ${config.identitySecret ? 'verified with the identity secret' : 'NOT verified (no identity secret): the ids the webchat passes are trusted'}`
    )
}

export const unregister: bp.IntegrationProps['unregister'] = async () => {}
