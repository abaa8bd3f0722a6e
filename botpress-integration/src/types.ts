// The integration's type, spelled out from the schemas (what `bp gen` would generate), so the
// handlers and the client calls are checked against the definition.
import type { z } from '@botpress/sdk'

import type { actions, configuration, events, states } from './schemas.js'

type Io<A extends { input: z.ZodTypeAny; output: z.ZodTypeAny }> = {
  input: z.input<A['input']>
  output: z.infer<A['output']>
}

export type Autoplay = {
  name: 'autoplay'
  version: '0.1.0'
  configuration: z.input<typeof configuration>
  configurations: {}
  actions: { [K in keyof typeof actions]: Io<(typeof actions)[K]> }
  channels: {}
  events: { [K in keyof typeof events]: z.infer<(typeof events)[K]['schema']> }
  states: { [K in keyof typeof states]: { type: 'integration'; payload: z.infer<(typeof states)[K]['schema']> } }
  user: { tags: {} }
  entities: {}
}
