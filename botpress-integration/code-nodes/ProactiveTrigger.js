// ProactiveTrigger: Execute Code card of a workflow that starts on the autoplay integration's
// "Trigger fired" event (sent by `autoplay-botpress stream --triggers-config …`).
//
// The integration creates that event in the user's linked conversation (LinkConversation.js),
// so this workflow runs in their chat: follow this card with a Text card sending
// {{workflow.nudgeMessage}} and it appears in their webchat. (A user with no linked
// conversation gets the nudge from LinkConversation.js when they next open the chat.)
//   workflow.nudgeMessage – the suggested opening line, e.g. "Comparing options? …"
//   workflow.nudgeReason  – what the user did, e.g. "went back and forth between /pricing and
//                           /checkout 3 times in 40 s", for the agent if the user answers
const { trigger, message, description, userId, sessionId } = event.payload

workflow.nudgeTrigger = trigger
workflow.nudgeMessage = message
workflow.nudgeReason = description
workflow.autoplayUserId = userId ?? undefined
workflow.autoplaySessionId = sessionId
