// ProactiveTrigger: Execute Code card of a workflow that starts on the autoplay integration's
// "Trigger fired" event (sent by `autoplay-botpress stream --triggers-config …`).
//
// It keeps the nudge for that user, so the next conversation (or the one Autoplay linked, when
// `conversationId` is set) can open with it, and records why, for the agent:
//   workflow.nudgeMessage  – the suggested opening line, e.g. "Comparing options? …"
//   workflow.nudgeReason   – what the user did, e.g. "went back and forth between /pricing and
//                            /checkout 3 times in 40 s"
// Follow this card with a Text card sending {{workflow.nudgeMessage}} when the workflow runs in
// the user's conversation, or store it in a user variable for the webchat to show.
const { trigger, message, description, userId, sessionId, conversationId } = event.payload

workflow.nudgeTrigger = trigger
workflow.nudgeMessage = message
workflow.nudgeReason = description
workflow.autoplayUserId = userId ?? undefined
workflow.autoplaySessionId = sessionId
workflow.nudgeConversationId = conversationId ?? undefined
