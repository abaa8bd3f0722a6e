// StoreEventsData: Execute Code card of the workflow that starts on the autoplay integration's
// "Actions received" trigger. The integration has already checked the signature, redacted
// personal data and mapped the batch to rows, so this only stores them.
//
// Rows are upserted on `event_key` (<batch id>:<position>): a batch delivered twice updates its
// rows instead of adding them, so storage stays exact even when a delivery is repeated.
//
// Also works behind the generic Webhook integration (the guide's set-up): there the rows are
// mapped here, from event.payload.body.
// `bp deploy` publishes the integration as `<workspace-handle>/autoplay`: its actions are found
// under that name (or `autoplay`), whichever the bot has.
const autoplay = actions.autoplay ?? Object.entries(actions).find(([name]) => name.endsWith('/autoplay'))?.[1]
if (!autoplay) throw new Error('the autoplay integration is not installed in this bot (actions.<handle>/autoplay)')
const rows = event.payload.rows ?? (await autoplay.mapActionsToRows({ body: event.payload.body })).rows

const MAX_ROWS_PER_CALL = 1000 // the Tables API's limit per upsert
for (let start = 0; start < rows.length; start += MAX_ROWS_PER_CALL) {
  await client.upsertTableRows({
    table: 'AutoPlayEventsTable',
    rows: rows.slice(start, start + MAX_ROWS_PER_CALL),
    keyColumn: 'event_key',
  })
}
workflow.storedActions = rows.length
