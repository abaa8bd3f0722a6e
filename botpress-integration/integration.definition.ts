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
  actions: {
    mapActionsToRows: { ...actions.mapActionsToRows, input: { schema: actions.mapActionsToRows.input }, output: { schema: actions.mapActionsToRows.output } },
    contextFilters: { ...actions.contextFilters, input: { schema: actions.contextFilters.input }, output: { schema: actions.contextFilters.output } },
    buildAgentContext: { ...actions.buildAgentContext, input: { schema: actions.buildAgentContext.input }, output: { schema: actions.buildAgentContext.output } },
    renderAgentContext: { ...actions.renderAgentContext, input: { schema: actions.renderAgentContext.input }, output: { schema: actions.renderAgentContext.output } },
  },
  events,
  states,
})
