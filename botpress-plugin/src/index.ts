// The autoplay plugin. Before each incoming message it makes sure the conversation is linked to
// the chatting user's Autoplay activity (verified from the webchat user data, recorded in user
// and conversation tags, pending nudges shown); its action gives the agent that user's context.
import { configuration as schema } from '../plugin.definition.js'
import { liveContext } from './context.js'
import { identify, webchatUserData } from './identify.js'
import { recordLink } from './links.js'
import { deliverPending, pendingKeys } from './nudges.js'
import * as bp from '.botpress'

const settings = (props: { configuration: unknown }) => schema.parse(props.configuration)

const plugin = new bp.Plugin({
  actions: {
    getLiveContext: async (props) => {
      const { conversation } = await props.client.getConversation({ id: props.input.conversationId })
      const tag = (name: string) => conversation.tags[`${props.alias}#${name}`] || undefined
      const scope = { userId: tag('autoplayUserId'), sessionId: tag('autoplaySessionId') }
      if (!scope.userId && !scope.sessionId) {
        return { text: '', identified: false, reason: 'this conversation is not linked to an identified Autoplay user' }
      }
      const text = await liveContext(props.client, settings(props), scope, new Date())
      return { text, identified: true, reason: null }
    },
  },
})

plugin.on.beforeIncomingMessage('*', async (props) => {
  const { conversationId, userId } = props.data
  const conversation = await props.conversations['*']['*'].getById({ id: conversationId })
  if (conversation.tags.autoplayUserId || conversation.tags.autoplaySessionId) return undefined
  const identity = await identify(settings(props), await webchatUserData(props.client, userId))
  if (identity.reason) {
    props.logger.info(`autoplay: chat not linked: ${identity.reason}`)
    return undefined
  }
  await recordLink(props.client, props.alias, { userId, conversationId, scope: identity.scope })
  await deliverPending(props.client, props.alias, props.ctx.botId, pendingKeys(identity.scope), conversationId, new Date())
  return undefined
})

export default plugin
