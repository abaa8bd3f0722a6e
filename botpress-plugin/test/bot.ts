// A bot with the plugin installed, as `bp` generates it for a bot that adds the plugin under the
// alias `autoplay` (bundle.initialize, then new Bot({ plugins })); the configuration comes from
// the AUTOPLAY_PLUGIN_CONFIG environment variable so each test picks its own.
import * as sdk from '@botpress/sdk'

import plugin from '../src/index.js'

const configuration = JSON.parse(process.env.AUTOPLAY_PLUGIN_CONFIG ?? '{}')
const autoplay = plugin.initialize({ alias: 'autoplay', configuration, interfaces: {}, integrations: {} } as never)

export const bot = new sdk.Bot({ actions: {}, plugins: { autoplay } } as never)
export const handler = bot.handler
