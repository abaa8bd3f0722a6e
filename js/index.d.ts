// Types and functions of the autoplay-botpress package (its JS layer over the WebAssembly core).
/** One action as the Autoplay connector sends it. Missing or null fields take defaults. */
export interface ActionInput {
  title?: string | null;
  description?: string | null;
  canonical_url?: string | null;
  index?: number | null;
  type?: string | null;
  timestamp_start?: number | null;
  timestamp_end?: number | null;
  raw_url?: string | null;
  session_id?: string | null;
  user_id?: string | null;
  email?: string | null;
  conversation_id?: string | null;
}

/** The webhook body the streamer posts (a superset of the guide's), or a raw connector payload. */
export interface ActionsBody {
  type?: string;
  product_id?: string | null;
  session_id?: string | null;
  user_id?: string | null;
  email?: string | null;
  actions?: ActionInput[] | null;
  count?: number | null;
  forwarded_at?: number | null;
  conversation_id?: string | null;
  batch_id?: string | null;
}

/** A connector-side summary (push mode). */
export interface SummaryBody {
  type?: "summary";
  product_id: string;
  session_id: string | null;
  summary: string;
  replaces: number;
  forwarded_at: number;
}

/** What a POSTed webhook body is, decoded leniently and normalized. */
export type WebhookBody =
  | { kind: "actions"; batch: ActionsBody & { count: number } }
  | { kind: "summary"; summary: SummaryBody }
  | { kind: "trigger"; trigger: TriggerEvent }
  | { kind: "ignored"; type: string };

/** A proactive trigger the streamer posts (`type: "trigger"`). */
export interface TriggerEvent {
  trigger_id: string;
  trigger: SignalKind | null;
  session_id: string;
  user_id: string | null;
  product_id: string;
  conversation_id?: string;
  signal: Signal | null;
  /** Suggested opening message. */
  message: string;
  fired_at: string;
}

/** A row of AutoPlayEventsTable (events layout). */
export interface EventRow {
  title: string;
  description: string;
  canonical_url: string;
  user_id: string | null;
  product_id: string;
  session_id: string | null;
  action_type: string;
  action_index: number;
  occurred_at: string | null;
  batch_id: string | null;
  /**
   * Idempotency key of the action (`<batch_id>:<position>`; a body without a batch id is keyed by
   * its content): the table's key column, so a re-delivered action updates its row.
   */
  event_key: string;
}

/** An events-table row as findRecords returns it. */
export interface StoredEventRow extends Partial<EventRow> {
  id?: number;
  createdAt?: string;
}

/** An action in the agent's context: every column set (rows of the sessions layout have no key). */
export interface ContextEvent extends Omit<EventRow, "event_key"> {
  id?: number | string;
  createdAt?: string;
  event_key: string | null;
}

/** A row of AutoPlayEventsSummaryTable (one per session). */
export interface SummaryRecord {
  session_id?: string | null;
  user_id?: string | null;
  product_id?: string | null;
  summary?: string | null;
  action_count?: number | null;
  createdAt?: string;
  updatedAt?: string;
}

/** One action as a session row stores it. */
export interface SessionAction {
  index: number;
  type: string;
  title: string;
  description: string;
  canonical_url: string;
  occurred_at: string | null;
}

/** A row of AutoPlaySessionsTable (sessions layout, key column session_id). */
export interface SessionRow {
  session_id: string;
  user_id: string | null;
  product_id: string;
  /** The rolling summary; null until the first. */
  summary: string | null;
  /** Actions the session has had in all. */
  action_count: number;
  /** The newest actions that fit the row, oldest first. */
  actions: SessionAction[];
  signals: Signal[];
  first_action_at: string | null;
  last_action_at: string | null;
  createdAt?: string;
  updatedAt?: string;
}

/** Whose activity to use; with neither set, nothing is shown. */
export interface ScopeOptions {
  userId?: string | null;
  sessionId?: string | null;
}

export interface WindowOptions extends ScopeOptions {
  /** Defaults to the current time. Unix milliseconds, ISO string or Date. */
  now?: number | string | Date;
  /** Look-back window; default 120000 (two minutes). */
  windowMs?: number;
}

export interface RowOptions extends RedactOptions {
  /** Upper bound on one row's JSON size; default 3900 (Botpress stores 4 KB per row). */
  maxRowBytes?: number;
}

export interface RedactOptions {
  /**
   * Replace personal data (e-mails, phone numbers, card numbers, IBANs, keys, tokens, URL query
   * strings and fragments) by typed placeholders such as `[email]`; default true.
   */
  redact?: boolean;
}

/** A Botpress Tables filter (MongoDB-like). */
export type TableFilter = Record<string, unknown>;

export interface BuildContextInput extends WindowOptions {
  /** Rows of AutoPlayEventsTable (events layout). */
  recentEvents?: StoredEventRow[] | null;
  /** Rows of AutoPlayEventsSummaryTable (events layout). */
  summaryRecords?: SummaryRecord[] | null;
  /** Rows of AutoPlaySessionsTable (sessions layout). */
  sessionRows?: Partial<SessionRow>[] | null;
  /** Cap on events handed to the agent (newest kept); default 50. */
  maxEvents?: number;
  /**
   * Cap on the context's JSON size, 2048 to 100000 bytes; default 32768 (a quarter of Botpress's
   * 128 KB workflow state). The oldest events go first, then the summary is cut visibly.
   */
  maxBytes?: number;
  /** Thresholds of the friction signals reported in the context. */
  signals?: SignalConfig;
}

export interface FetchContextOptions extends WindowOptions {
  maxEvents?: number;
  maxBytes?: number;
  signals?: SignalConfig;
}

/** What the agent gets. */
export interface AgentContext {
  userId: string | null;
  sessionId: string | null;
  /** Full text of the user's latest summary, or null. */
  summary: string | null;
  /** The user's events inside the window, oldest first. */
  recentEvents: ContextEvent[];
  /** Events in the window left out by maxEvents or maxBytes (the oldest). */
  omittedEvents: number;
  windowMs: number;
  generatedAt: string;
  /** Friction signals found in those events. */
  signals: Signal[];
}

/** Thresholds of the friction signals; every field optional. */
export interface SignalConfig {
  pingPongMinReturns?: number;
  hesitationMinPages?: number;
  dwellMinMs?: number;
  dwellMaxActions?: number;
  rageMinClicks?: number;
  rageWindowMs?: number;
  repeatedSubmitMin?: number;
  /** Multi-step paths; leaving one after its second step and before its last is "abandoned". */
  flows?: { name: string; steps: string[] }[];
}

export type SignalKind = "ping_pong" | "hesitation" | "dwell" | "rage_clicks" | "repeated_submits" | "flow_abandoned";

/** A friction signal with its evidence. */
export interface Signal {
  kind: SignalKind;
  description: string;
  evidence: { pages: string[]; elements?: string[]; count: number; from: string; to: string };
}

export interface DetectSignalsInput {
  /** One session's rows (as findRecords returns them), any order. */
  events: StoredEventRow[];
  now?: number | string | Date;
  config?: SignalConfig;
}

export interface RenderOptions extends RedactOptions {
  /** Size of the text in characters; default 4000. */
  maxChars?: number;
}

/** One findRecords / findTableRows query. */
export interface TableQuery {
  filter: TableFilter;
  limit: number;
  orderBy: string;
  orderDirection: "asc" | "desc";
}

/** The queries of one chat turn, for either layout; every filter matches nothing unscoped. */
export interface ContextQueries {
  events: TableQuery;
  summaries: TableQuery;
  sessions: TableQuery;
  scoped: boolean;
}

/** A Botpress table object as seen in an Execute Code card. */
export interface BotpressTable {
  findRecords(query: {
    filter?: TableFilter;
    limit?: number;
    orderBy?: string;
    orderDirection?: "asc" | "desc";
  }): Promise<unknown>;
}

/** StoreEventsData: a webhook body → AutoPlayEventsTable rows, each fitted to the row size limit. */
export function mapActionsToRows(body: ActionsBody | string, options?: RowOptions): EventRow[];
/** Decodes a POSTed webhook body (the streamer's batch or trigger, or a connector push-mode event). */
export function parseWebhookBody(body: ActionsBody | SummaryBody | string, options?: RedactOptions): WebhookBody;
/** Friction signals in one session's rows. */
export function detectSignals(input: DetectSignalsInput): Signal[];
/** The events-table filter for the chatting user's recent events. */
export function recentEventsFilter(options?: WindowOptions): TableFilter;
/** The summary-table filter for the chatting user. */
export function summaryRecordsFilter(options?: ScopeOptions): TableFilter;
/** The sessions-table filter for the chatting user's sessions updated in the last day. */
export function sessionRowsFilter(options?: WindowOptions): TableFilter;
/** Every query of a chat turn: filters, limits, newest first, for either layout. */
export function contextQueries(options?: FetchContextOptions): ContextQueries;
/** The agent context for the chatting user from table rows (either layout). */
export function buildAgentContext(input: BuildContextInput): AgentContext;
/** The agent context as prompt text within `maxChars`, page text quoted as data. */
export function renderAgentContext(context: AgentContext, options?: RenderOptions): string;
/** Reads the chatting user's rows and builds their context (sessions layout). */
export function fetchAgentContext(tables: { sessions: BotpressTable }, options: FetchContextOptions): Promise<AgentContext>;
/** Reads the chatting user's rows and builds their context (events layout). */
export function fetchAgentContext(tables: { events: BotpressTable; summaries: BotpressTable }, options: FetchContextOptions): Promise<AgentContext>;
/** Reads the chatting user's rows and builds their context (events layout). */
export function fetchAgentContext(eventsTable: BotpressTable, summaryTable: BotpressTable, options: FetchContextOptions): Promise<AgentContext>;
