// What Botpress shows and validates: configuration, actions, events, state. The implementation
// is in src/index.ts; both share the schemas in src/schemas.ts.
import { IntegrationDefinition } from '@botpress/sdk'

import { actions, configuration, events, states } from './src/schemas.js'

export default new IntegrationDefinition({
  name: 'autoplay',
  version: '0.1.0',
  title: 'Autoplay live activity',
  description:
    "Receives Autoplay's live UI actions (from the autoplay-botpress streamer or the connector's push mode) and builds each chatting user's own activity context for the agent.",
  readme: 'README.md',
  configuration: { schema: configuration },
  actions: Object.fromEntries(
    Object.entries(actions).map(([name, { input, output, ...text }]) => [
      name,
      { ...text, input: { schema: input }, output: { schema: output } },
    ])
  ),
  events,
  states,
})
