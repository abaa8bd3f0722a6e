// LinkConversation: Execute Code card at the start of the main workflow, after the card that
// copies the webchat user data into workflow variables (see README, "Identify the user").
//
// It links this conversation to the chatting Autoplay user, so the proactive nudges the
// streamer fires for them arrive here (the "Trigger fired" workflow then runs in this
// conversation), and picks up a nudge that fired while they had no conversation open.
// With the integration's identitySecret set, only the ids in a valid identity token count.
const { linked, identity, pendingNudge } = await actions.autoplay.linkConversation({
  conversationId: event.conversationId,
  botpressUserId: event.userId,
  userId: workflow.autoplayUserId || undefined,
  sessionId: workflow.autoplaySessionId || undefined,
  identityToken: workflow.autoplayIdentityToken || undefined,
})

workflow.autoplayLinked = linked
workflow.autoplayIdentityProblem = identity.reason ?? undefined // e.g. "the identity token has expired …"
// A Text card after this one, shown only when workflow.nudgeMessage is set, opens with it.
workflow.nudgeMessage = pendingNudge?.message
workflow.nudgeReason = pendingNudge?.description
