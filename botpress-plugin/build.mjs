// Bundles the plugin into one self-contained file, dist/index.cjs: the SDK, the client and the
// WASM core (inlined as base64), as `bp build` does into .botpress/dist. Also bundles the test
// bot (test/bot.ts: a bot with the plugin installed, what Botpress runs) into dist/bot.cjs.
import { build } from 'esbuild'
import { statSync } from 'node:fs'

// esbuild's options as `bp build` (CLI 5.5.6) sets them for the bundle `bp deploy` uploads: minified
// (its --minify defaults to true), names kept, es2020, no legal comments; so this bundle's bytes
// and cold start are the deployed one's.
const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'es2020',
  minify: true,
  keepNames: true,
  legalComments: 'none',
  logLevel: 'warning',
}
await build({ ...common, entryPoints: ['src/index.ts'], outfile: 'dist/index.cjs', sourcemap: true })
await build({ ...common, entryPoints: ['test/bot.ts'], outfile: 'dist/bot.cjs' })
await build({ ...common, entryPoints: ['plugin.definition.ts'], outfile: 'dist/definition.cjs' })
await build({ ...common, entryPoints: ['src/nudges.ts'], outfile: 'dist/nudges.cjs' })
console.log(`dist/index.cjs: ${(statSync('dist/index.cjs').size / 1024).toFixed(1)} KiB, self-contained`)
