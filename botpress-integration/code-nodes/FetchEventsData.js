// FetchEventsData: Execute Code card right before the Autonomous Node (see hub.md for the
// variables to declare). It reads ONLY the chatting user's activity and hands the agent:
//   workflow.autoplayContext  – summary, recent actions and friction signals (an object)
//   workflow.autoplayPrompt   – the same as compact text for the agent's instructions
// Who is chatting comes from workflow.autoplayIdentityToken (with the integration's identity
// secret set) or workflow.autoplayUserId / workflow.autoplaySessionId, copied from the webchat
// user data. Without a usable id, or with an expired or forged token, it reads nothing and the
// agent gets an empty context, never somebody else's; workflow.autoplayIdentityProblem says why.
// `bp deploy` publishes the integration as `<workspace-handle>/autoplay`: its actions are found
// under that name (or `autoplay`), whichever the bot has.
const autoplay = actions.autoplay ?? Object.entries(actions).find(([name]) => name.endsWith('/autoplay'))?.[1]
if (!autoplay) throw new Error('the autoplay integration is not installed in this bot (actions.<handle>/autoplay)')
const ids = {
  userId: workflow.autoplayUserId || undefined,
  sessionId: workflow.autoplaySessionId || undefined,
  identityToken: workflow.autoplayIdentityToken || undefined,
}

// Which rows to read (the integration's table layout), newest first. Asked once the chat is
// identified, then kept: the reads stay valid for the conversation, so later turns make one
// integration call, not two.
if (!Array.isArray(workflow.autoplayReads) || workflow.autoplayReads.length === 0) {
  workflow.autoplayReads = (await autoplay.contextReads(ids)).reads
}
const rows = {}
for (const { table, input, query } of workflow.autoplayReads) {
  rows[input] = (await client.findTableRows({ table, ...query })).rows
}

const { context, text, identity } = await autoplay.getAgentContext({ ...ids, ...rows })
workflow.autoplayContext = context
workflow.autoplayPrompt = text
workflow.autoplayIdentityProblem = identity.reason ?? ''
