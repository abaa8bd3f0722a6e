// Bundles the plugin into one self-contained file, dist/index.cjs: the SDK, the client and the
// WASM core (inlined as base64), as `bp build` does into .botpress/dist. Also bundles the test
// bot (test/bot.ts: a bot with the plugin installed, what Botpress runs) into dist/bot.cjs.
import { build } from 'esbuild'
import { statSync } from 'node:fs'

import { BP_BUILD_OPTIONS } from '../botpress-integration/scripts/bp-build-options.mjs'

await build({ ...BP_BUILD_OPTIONS, entryPoints: ['src/index.ts'], outfile: 'dist/index.cjs', sourcemap: true })
await build({ ...BP_BUILD_OPTIONS, entryPoints: ['test/bot.ts'], outfile: 'dist/bot.cjs' })
await build({ ...BP_BUILD_OPTIONS, entryPoints: ['plugin.definition.ts'], outfile: 'dist/definition.cjs' })
await build({ ...BP_BUILD_OPTIONS, entryPoints: ['src/nudges.ts'], outfile: 'dist/nudges.cjs' })
console.log(`dist/index.cjs: ${(statSync('dist/index.cjs').size / 1024).toFixed(1)} KiB, self-contained`)
