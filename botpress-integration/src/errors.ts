// Errors the bot can read: Botpress shows a RuntimeError's message to the bot owner, while any
// other exception becomes a generic "unexpected error".
import { RuntimeError } from '@botpress/client'
import type { z } from '@botpress/sdk'

export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/** Validates an action input against its schema; the error names each bad field. */
export function parseInput<T extends z.ZodTypeAny>(action: string, schema: T, input: unknown): z.infer<T> {
  const result = schema.safeParse(input)
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`)
    throw new RuntimeError(`${action}: ${problems.join('; ')}`)
  }
  return result.data
}

/** Runs core work, turning its `Error`s into RuntimeErrors with the same message. */
export function core<T>(work: () => T): T {
  try {
    return work()
  } catch (err) {
    throw new RuntimeError(describe(err))
  }
}
