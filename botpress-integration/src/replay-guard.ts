// Every signed delivery the webhook accepted, remembered by a digest of what its signature
// covers until that signature can no longer be accepted (its date + MAX_SKEW_SECONDS), so a
// captured request replayed at any moment of its window is recognised, whatever traffic came
// between. The guard never forgets a live entry to make room: when live entries fill its byte
// budget, new deliveries are told to come back (their sender retries) until the oldest expire.
// Entries are written key by key (patchState), so concurrent deliveries keep each other's;
// expired entries are dropped by rewriting the state, only when they are in the way. Two copies
// of one request arriving within the same round trip can both pass: the check and the write are
// two calls, and Botpress states have no compare-and-set.

import type * as bp from '.botpress'

/** Most bytes of JSON the guard keeps: about 3,800 live deliveries, under Botpress's 128 KB per state. */
export const MAX_GUARD_BYTES = 112 * 1024

export type Admission = { verdict: 'fresh' } | { verdict: 'replay' } | { verdict: 'full'; retryAfterSeconds: number }

type Stored = Record<string, number | null>

const bytesOf = (entries: Stored) => Buffer.byteLength(JSON.stringify(entries))

export class ReplayGuard {
  constructor(
    private readonly client: bp.Client,
    private readonly integrationId: string
  ) {}

  private where() {
    return { type: 'integration' as const, id: this.integrationId, name: 'replays' as const }
  }

  /** Admits the delivery `digest` once, remembered until `expiresAt` (unix seconds). */
  async admit(digest: string, expiresAt: number, now: number): Promise<Admission> {
    const { state } = await this.client.getOrSetState({ ...this.where(), payload: {} })
    const all = (state.payload ?? {}) as Stored
    const seenUntil = all[digest]
    if (typeof seenUntil === 'number' && seenUntil >= now) return { verdict: 'replay' }
    const entry = { [digest]: expiresAt }
    if (bytesOf({ ...all, ...entry }) <= MAX_GUARD_BYTES) {
      await this.client.patchState({ ...this.where(), payload: entry })
      return { verdict: 'fresh' }
    }
    const live = Object.fromEntries(Object.entries(all).filter((e): e is [string, number] => typeof e[1] === 'number' && e[1] >= now))
    if (bytesOf({ ...live, ...entry }) > MAX_GUARD_BYTES) {
      const soonest = Math.min(...Object.values(live))
      return { verdict: 'full', retryAfterSeconds: Math.max(1, soonest - now + 1) }
    }
    await this.client.setState({ ...this.where(), payload: { ...live, ...entry } })
    return { verdict: 'fresh' }
  }

  /** Forgets `digest`, for a delivery that failed before it took effect: its sender's retry must pass. */
  async release(digest: string): Promise<void> {
    await this.client.patchState({ ...this.where(), payload: { [digest]: null } })
  }
}
