// Botpress's own CLI on this integration, when it is available (BP_CLI, or the copy this
// project's machines keep at ../shared/tools/bp-cli/bp next to the repository):
//   1. `bp lint` — what the Hub requires before publishing — must report no error and no warning;
//   2. `bp build` must pass, and the typings it generates must be the committed ones (.botpress/);
//   3. the bundle `bp build` makes — what `bp deploy` uploads — must pass the handler tests too.
// Without the CLI it says so and skips: a fresh machine still passes the rest of the suite.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = resolve(fileURLToPath(new URL('..', import.meta.url)))
const cli = process.env.BP_CLI ?? resolve(here, '../../shared/tools/bp-cli/bp')

if (!existsSync(cli)) {
  console.log(`SKIPPED: Botpress CLI not found at ${cli}: bp lint and bp build were not run (set BP_CLI to a bp 5.x).`)
  process.exit(0)
}

function run(what, command, args, env = {}) {
  const result = spawnSync(command, args, { cwd: here, encoding: 'utf8', env: { ...process.env, ...env } })
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`
  if (result.status !== 0) {
    console.error(output)
    throw new Error(`${what} failed (exit ${result.status})`)
  }
  return output
}

/** Every file under the typings folder, with its content (the bundle aside). */
function typings() {
  const files = new Map()
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name)
      if (statSync(path).isDirectory()) {
        if (name !== 'dist') walk(path)
      } else {
        files.set(relative(here, path), readFileSync(path, 'utf8'))
      }
    }
  }
  if (existsSync(join(here, '.botpress'))) walk(join(here, '.botpress'))
  return files
}

const lint = run('bp lint', cli, ['lint'])
if (/[×⚠]/.test(lint)) {
  console.error(lint)
  throw new Error('bp lint reported problems: the Hub accepts none')
}
console.log('bp lint: no error, no warning')

const committed = typings()
run('bp build', cli, ['build'])
const generated = typings()
const stale = [...new Set([...committed.keys(), ...generated.keys()])].filter((f) => committed.get(f) !== generated.get(f))
if (stale.length > 0) {
  throw new Error(`the committed typings differ from what bp generates now: ${stale.join(', ')} — commit .botpress/ as bp build left it`)
}
console.log(`bp build: passed; ${generated.size} typing files match the committed ones`)

run('the tests on the bp build bundle', process.execPath, ['--test', ...readdirSync(join(here, 'test')).filter((f) => f.endsWith('.test.mjs')).map((f) => join('test', f))], {
  AUTOPLAY_BUNDLE: '.botpress/dist/index.cjs',
})
console.log("the tests pass on bp build's bundle (.botpress/dist/index.cjs)")
