// LinkConversation: Execute Code card at the start of the main workflow, right after a
// "Get User Data" card (User ID {{event.userId}}) that stores the webchat user data in
// workflow.webchatUser. See hub.md for the variables to declare.
//
// 1. It copies who is chatting into the variables the other cards read.
// 2. It links this conversation to that Autoplay user, so the nudges the streamer fires for them
//    are created here (the "Trigger fired" workflow then runs in this conversation), and picks up
//    a nudge that fired while they had no conversation open.
// With the integration's identity secret set, only the ids inside a valid token count.
// `bp deploy` publishes the integration as `<workspace-handle>/autoplay`: its actions are found
// under that name (or `autoplay`), whichever the bot has.
const autoplay = actions.autoplay ?? Object.entries(actions).find(([name]) => name.endsWith('/autoplay'))?.[1]
if (!autoplay) throw new Error('the autoplay integration is not installed in this bot (actions.<handle>/autoplay)')
// The Get User Data card's result is `{ userData }`: the data the page passed with updateUser.
const data = workflow.webchatUser?.userData ?? {}
workflow.autoplayIdentityToken = data.autoplayIdentityToken || workflow.autoplayIdentityToken || ''
workflow.autoplayUserId = data.autoplayUserId || workflow.autoplayUserId || ''
workflow.autoplaySessionId = data.autoplaySessionId || workflow.autoplaySessionId || ''

const { linked, identity, pendingNudge } = await autoplay.linkConversation({
  conversationId: event.conversationId,
  botpressUserId: event.userId,
  userId: workflow.autoplayUserId || undefined,
  sessionId: workflow.autoplaySessionId || undefined,
  identityToken: workflow.autoplayIdentityToken || undefined,
})

workflow.autoplayLinked = linked
workflow.autoplayIdentityProblem = identity.reason ?? '' // e.g. "the identity token has expired …"
// A Text card after this one, shown only when workflow.nudgeMessage is not empty, opens with it.
workflow.nudgeMessage = pendingNudge?.message ?? ''
workflow.nudgeReason = pendingNudge?.description ?? ''
