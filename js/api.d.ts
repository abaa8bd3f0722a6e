// The functions of the autoplay-botpress package: its JavaScript layer (js/facade.cjs) over the
// WebAssembly core. The data types above are generated from the Rust types that produce and read
// them (examples/typescript.rs), so they say exactly what the functions return.

/** What a function accepts where the connector's leniency applies: any field missing or null. */
export type Lenient<T> = T extends (infer U)[]
  ? Lenient<U>[]
  : T extends object
    ? { [K in keyof T]?: Lenient<T[K]> | null }
    : T;

/** "Now": unix milliseconds, an ISO 8601 string or a Date; the current time when absent. */
export type Now = TimeInput | Date;

/** A batch as POSTed or read (the guide's body, the streamer's, or the connector's push mode). */
export type ActionsBody = Lenient<ActionsPayload> & { type?: "actions" };
/** A connector-side summary (push mode). */
export type SummaryBody = Lenient<SummaryPayload> & { type: "summary" };
/** Rows and settings for the chatting user's context; every field optional. */
export type BuildContextInput = Lenient<Omit<ContextInput, "now">> & { now?: Now | null };
/** Whose activity, which window and layout: the context's settings without the rows. */
export type ContextOptions = Omit<BuildContextInput, "recentEvents" | "summaryRecords" | "sessionRows">;
/** One session's stored rows (any order), "now", and the thresholds. */
export type DetectSignalsInput = Lenient<Omit<RowsInput, "now">> & { now?: Now | null };
/** A Botpress Tables filter (MongoDB-like). */
export type TableFilter = Record<string, unknown>;

/** A Botpress table object as seen in an Execute Code card. */
export interface BotpressTable {
  findRecords(query: TableQuery): Promise<unknown>;
}

/**
 * StoreEventsData: a webhook body → AutoPlayEventsTable rows, each fitted to the row size limit.
 * Actions that cannot be read are left out; the array's `skipped` then says how many and why.
 */
export function mapActionsToRows(body: ActionsBody | string, options?: Lenient<RowOptions>): EventRow[] & { skipped?: Skipped };
/** Decodes a POSTed webhook body (the streamer's batch or trigger, or a connector push-mode event). */
export function parseWebhookBody(body: ActionsBody | SummaryBody | string, options?: Lenient<RedactOptions>): WebhookBody;
/** Friction signals in one session's rows. */
export function detectSignals(input: DetectSignalsInput): Signal[];
/** Every query of a chat turn, newest first, and the reads of the chosen layout. */
export function contextQueries(options?: ContextOptions): ContextQueries;
/** The agent context for the chatting user from table rows (either layout). */
export function buildAgentContext(input: BuildContextInput): AgentContext;
/**
 * A user or session id as the streamer's rows, bodies and prompts hold it: `null` when blank,
 * an id over 200 UTF-8 bytes shortened to its first 160 bytes, `…#` and 32 hex digits of its
 * SHA-256, any other id unchanged (never trimmed). Shortening a shortened id changes nothing.
 */
export function normalizeId(id: string): string | null;
/** The agent context as prompt text within `maxChars`, page text quoted as data. */
export function renderAgentContext(context: AgentContext, options?: Lenient<RenderOptions>): string;
/** Reads the chatting user's rows and builds their context (sessions layout). */
export function fetchAgentContext(tables: { sessions: BotpressTable }, options: ContextOptions): Promise<AgentContext>;
/** Reads the chatting user's rows and builds their context (events layout). */
export function fetchAgentContext(tables: { events: BotpressTable; summaries: BotpressTable }, options: ContextOptions): Promise<AgentContext>;
/** Reads the chatting user's rows and builds their context (events layout). */
export function fetchAgentContext(eventsTable: BotpressTable, summaryTable: BotpressTable, options: ContextOptions): Promise<AgentContext>;
