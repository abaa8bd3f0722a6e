// What Botpress shows and validates: configuration, actions, events, states. The schemas are in
// definitions/; the implementation (src/) is typed from them by `bp gen` (.botpress/).
import { IntegrationDefinition } from '@botpress/sdk'

import { actions, configuration, events, states } from './definitions/index.js'

export default new IntegrationDefinition({
  name: 'autoplay',
  version: '0.2.0',
  title: 'Autoplay live activity',
  description:
    "Lets your agent see what the user is doing in your product right now: their recent clicks and pages, a summary, signs they are stuck, and nudges when they are.",
  icon: 'icon.svg',
  readme: 'hub.md',
  configuration: { schema: configuration },
  actions,
  events,
  states,
  attributes: { category: 'Analytics' },
})
