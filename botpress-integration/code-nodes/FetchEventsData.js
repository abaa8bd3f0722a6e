// FetchEventsData: Execute Code card right before the Autonomous Node. It reads ONLY the
// chatting user's activity: set workflow.autoplayUserId (and, if you match by session,
// workflow.autoplaySessionId) from the webchat user data first (see README, "Identify the user"),
// or, with the integration's identitySecret set, workflow.autoplayIdentityToken: then only the
// token's ids count. Without a usable id (or with an expired or forged token) it reads nothing
// and the agent gets an empty context, never somebody else's; workflow.autoplayIdentityProblem
// says why.
const ids = {
  userId: workflow.autoplayUserId || undefined,
  sessionId: workflow.autoplaySessionId || undefined,
  identityToken: workflow.autoplayIdentityToken || undefined,
}

// Which tables to read (the integration's `layout` setting), newest first, scoped to the user.
const { reads, identity } = await actions.autoplay.contextFilters(ids)
const rows = {}
for (const { table, input, query } of reads) {
  rows[input] = (await client.findTableRows({ table, ...query })).rows
}

const { context } = await actions.autoplay.buildAgentContext({ ...ids, ...rows })
const { text } = await actions.autoplay.renderAgentContext({ context })

workflow.autoplayContext = context // structured: summary, recentEvents, signals, …
workflow.autoplayPrompt = text // compact text for the agent's instructions
workflow.autoplayIdentityProblem = identity.reason ?? undefined
