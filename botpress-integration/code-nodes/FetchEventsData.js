// FetchEventsData: Execute Code card right before the Autonomous Node. It reads ONLY the
// chatting user's activity: set workflow.autoplayUserId (and, if you match by session,
// workflow.autoplaySessionId) from the webchat user data first (see README, "Identify the user").
// Without an id the agent gets an empty context, never somebody else's.
const ids = {
  userId: workflow.autoplayUserId || undefined,
  sessionId: workflow.autoplaySessionId || undefined,
}

const { eventsQuery, summaryQuery, scoped } = await actions.autoplay.contextFilters(ids)
const recentEvents = scoped ? await AutoPlayEventsTable.findRecords(eventsQuery) : []
const summaryRecords = scoped ? await AutoPlayEventsSummaryTable.findRecords(summaryQuery) : []

const { context } = await actions.autoplay.buildAgentContext({ ...ids, recentEvents, summaryRecords })
const { text } = await actions.autoplay.renderAgentContext({ context })

workflow.autoplayContext = context // structured: summary, recentEvents, …
workflow.autoplayPrompt = text // compact text for the agent's instructions
