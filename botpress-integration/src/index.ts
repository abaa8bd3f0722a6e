// The autoplay integration: actions over the WebAssembly core, and the verified webhook.
import { actions } from './actions.js'
import { register, unregister } from './setup.js'
import { handleWebhook } from './webhook.js'
import * as bp from '.botpress'

export default new bp.Integration({
  register,
  unregister,
  channels: {},
  handler: handleWebhook,
  actions,
})
