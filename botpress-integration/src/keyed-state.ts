// Small maps kept in integration states: one top-level key per entry, written with patchState
// (a server-side merge of those keys), so two writers at the same instant never overwrite each
// other's entries — the read-then-write race that lost de-dup ids before. Entries carry their
// time; expired ones read as absent. Past the cap, the oldest are dropped by rewriting the
// state: the one step that could drop an entry written at that instant, which every user of
// these maps tolerates (a link is renewed at each chat turn; a seen id only saves an event).

import type * as bp from '.botpress'

type Name = keyof bp.states.States
type Entry = { at: number }

/** Most entries a map keeps; a rewrite trims it to 80 % of this. */
export const MAX_ENTRIES = 500

export class KeyedState<T extends Entry> {
  constructor(
    private readonly client: bp.Client,
    private readonly integrationId: string,
    private readonly name: Name,
    /** How long an entry lives, in milliseconds. */
    readonly ttlMs: number
  ) {}

  private live(entry: T | null | undefined, now: number): T | undefined {
    return entry && now - entry.at < this.ttlMs ? entry : undefined
  }

  private async read(): Promise<Record<string, T | null>> {
    const { state } = await this.client.getOrSetState({ type: 'integration', id: this.integrationId, name: this.name, payload: {} })
    return (state.payload ?? {}) as Record<string, T | null>
  }

  /** The first of `keys` with a live entry, and that entry. */
  async find(keys: string[], now: number): Promise<[string, T] | undefined> {
    const all = await this.read()
    for (const key of keys) {
      const entry = this.live(all[key], now)
      if (entry) return [key, entry]
    }
    return undefined
  }

  /** Writes `entries` (`null` removes one), then trims the map if it grew past the cap. */
  async put(entries: Record<string, T | null>, now: number): Promise<void> {
    const { state } = await this.client.patchState({ type: 'integration', id: this.integrationId, name: this.name, payload: entries })
    const all = (state.payload ?? {}) as Record<string, T | null>
    if (Object.keys(all).length <= MAX_ENTRIES) return
    const kept = Object.entries(all)
      .filter((e): e is [string, T] => this.live(e[1], now) !== undefined)
      .sort((a, b) => b[1].at - a[1].at)
      .slice(0, Math.floor(MAX_ENTRIES * 0.8))
    await this.client.setState({ type: 'integration', id: this.integrationId, name: this.name, payload: Object.fromEntries(kept) })
  }

  /** The first live entry of `keys`, removed so it is handed out once. */
  async take(keys: string[], now: number): Promise<T | undefined> {
    const found = await this.find(keys, now)
    if (!found) return undefined
    await this.put({ [found[0]]: null }, now)
    return found[1]
  }
}
