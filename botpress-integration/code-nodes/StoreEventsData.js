// StoreEventsData: Execute Code card of the workflow that starts on the autoplay integration's
// "Actions received" trigger. The integration has already checked the signature, dropped
// re-deliveries and mapped the batch to rows, so this only stores them.
//
// Also works behind the generic Webhook integration (the guide's set-up): there the rows are
// mapped here, from event.payload.body.
const rows = event.payload.rows ?? (await actions.autoplay.mapActionsToRows({ body: event.payload.body })).rows

if (rows.length > 0) {
  await AutoPlayEventsTable.createRecords(rows)
}
workflow.storedActions = rows.length
