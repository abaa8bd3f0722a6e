// Bundles the integration into one self-contained file, dist/index.cjs: the SDK, the client and
// the WASM core (inlined as base64 by pkg/inline.mjs), so nothing is read from disk at run time.
// `bp build` bundles src/index.ts the same way (into .botpress/dist). Also bundles the
// definitions (dist/definitions.cjs), so the tests can check real outputs against the schemas.
import { build } from 'esbuild'
import { statSync } from 'node:fs'

import { BP_BUILD_OPTIONS } from './scripts/bp-build-options.mjs'

await build({ ...BP_BUILD_OPTIONS, entryPoints: ['src/index.ts'], outfile: 'dist/index.cjs', sourcemap: true })
await build({ ...BP_BUILD_OPTIONS, entryPoints: ['definitions/index.ts'], outfile: 'dist/definitions.cjs' })
console.log(`dist/index.cjs: ${(statSync('dist/index.cjs').size / 1024).toFixed(1)} KiB, self-contained`)
