// Botpress's own CLI on the plugin, when it is available (BP_CLI, or the copy this project's
// machines keep at ../shared/tools/bp-cli/bp next to the repository): `bp build` must pass and the
// typings it generates must be the committed ones (.botpress/). (`bp lint` answers "Unsupported
// project type" for a plugin: test/definition.test.mjs holds the definition to its rules.)
// Without the CLI it says so and skips.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = resolve(fileURLToPath(new URL('..', import.meta.url)))
const cli = process.env.BP_CLI ?? resolve(here, '../../shared/tools/bp-cli/bp')
if (!existsSync(cli)) {
  console.log(`SKIPPED: Botpress CLI not found at ${cli}: bp build was not run (set BP_CLI to a bp 5.x).`)
  process.exit(0)
}

function typings(dir = join(here, '.botpress'), files = new Map()) {
  if (!existsSync(dir)) return files
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) {
      if (name !== 'dist') typings(path, files)
    } else files.set(relative(here, path), readFileSync(path, 'utf8'))
  }
  return files
}

const committed = typings()
const result = spawnSync(cli, ['build'], { cwd: here, encoding: 'utf8' })
if (result.status !== 0) {
  console.error(`${result.stdout}${result.stderr}`)
  throw new Error(`bp build failed (exit ${result.status})`)
}
const generated = typings()
const stale = [...new Set([...committed.keys(), ...generated.keys()])].filter((f) => committed.get(f) !== generated.get(f))
if (stale.length > 0) throw new Error(`the committed typings differ from what bp generates: ${stale.join(', ')}`)
console.log(`bp build: passed; ${generated.size} typing files match the committed ones`)
