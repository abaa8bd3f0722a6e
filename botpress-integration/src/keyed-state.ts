// Small maps kept in integration states: one top-level key per entry, written with patchState
// (a server-side merge of those keys), so two writers at the same instant never overwrite each
// other's entries. Entries carry their time; expired ones read as absent. A map is bounded by
// entries and by bytes (Botpress refuses a state over 128 KB): a write that would pass either
// bound first trims the map to the newest live entries that leave room for it, then writes — so
// no input, however large or many, can make later writes fail. Trimming rewrites the state: the
// one step that could drop an entry written at that instant, which every user of these maps
// tolerates (a link is renewed at each chat turn; a seen id only saves an event).

import type * as bp from '.botpress'

type Name = keyof bp.states.States
type Entry = { at: number }
type Stored<T> = Record<string, T | null>

/** Most entries a map keeps; a trim leaves 80 % of this. */
export const MAX_ENTRIES = 500
/** Most bytes of JSON a map keeps, well under Botpress's 128 KB per state; a trim leaves 80 %. */
export const MAX_STATE_BYTES = 96 * 1024

const TRIM_TO = 0.8

/** The bytes `entries` add to a state's JSON. */
function bytesOf(entries: [string, unknown][]): number {
  return entries.reduce((sum, [key, value]) => sum + Buffer.byteLength(JSON.stringify(key)) + Buffer.byteLength(JSON.stringify(value)) + 2, 0)
}

export class KeyedState<T extends Entry> {
  constructor(
    private readonly client: bp.Client,
    private readonly integrationId: string,
    private readonly name: Name,
    /** How long an entry lives, in milliseconds. */
    readonly ttlMs: number
  ) {}

  private live(entry: T | null | undefined, now: number): entry is T {
    return Boolean(entry) && now - entry!.at < this.ttlMs
  }

  private async read(): Promise<Stored<T>> {
    const { state } = await this.client.getOrSetState({ type: 'integration', id: this.integrationId, name: this.name, payload: {} })
    return (state.payload ?? {}) as Stored<T>
  }

  private firstLive(all: Stored<T>, keys: string[], now: number): [string, T] | undefined {
    for (const key of keys) {
      const entry = all[key]
      if (this.live(entry, now)) return [key, entry]
    }
    return undefined
  }

  /** The first of `keys` with a live entry, and that entry. */
  async find(keys: string[], now: number): Promise<[string, T] | undefined> {
    return this.firstLive(await this.read(), keys, now)
  }

  /** Writes `entries` (`null` removes one) into `all`, the map as just read, trimming it first if needed. */
  private async write(all: Stored<T>, entries: Stored<T>, now: number): Promise<void> {
    const merged = Object.entries({ ...all, ...entries })
    if (merged.length <= MAX_ENTRIES && bytesOf(merged) <= MAX_STATE_BYTES) {
      await this.client.patchState({ type: 'integration', id: this.integrationId, name: this.name, payload: entries })
      return
    }
    const added = Object.entries(entries).filter(([, entry]) => entry !== null)
    let room = Math.floor(MAX_STATE_BYTES * TRIM_TO) - bytesOf(added)
    const kept: [string, T][] = []
    const candidates = Object.entries(all)
      .filter((e): e is [string, T] => !(e[0] in entries) && this.live(e[1], now))
      .sort((a, b) => b[1].at - a[1].at)
    for (const entry of candidates) {
      room -= bytesOf([entry])
      if (room < 0 || kept.length + added.length >= Math.floor(MAX_ENTRIES * TRIM_TO)) break
      kept.push(entry)
    }
    await this.client.setState({ type: 'integration', id: this.integrationId, name: this.name, payload: Object.fromEntries([...kept, ...added]) })
  }

  /** Writes `entries` (`null` removes one), keeping the map within its bounds. */
  async put(entries: Stored<T>, now: number): Promise<void> {
    await this.write(await this.read(), entries, now)
  }

  /** The first live entry of `keys`, removed so it is handed out once. */
  async take(keys: string[], now: number): Promise<T | undefined> {
    const all = await this.read()
    const found = this.firstLive(all, keys, now)
    if (!found) return undefined
    await this.write(all, { [found[0]]: null }, now)
    return found[1]
  }
}
