// Bundles the integration into one self-contained file, dist/index.cjs: the SDK, the client and
// the WASM core (inlined as base64 by pkg/inline.mjs), so nothing is read from disk at run time.
// `bp build` bundles src/index.ts the same way (into .botpress/dist). Also bundles the
// definitions (dist/definitions.cjs), so the tests can check real outputs against the schemas.
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
await build({ ...common, entryPoints: ['definitions/index.ts'], outfile: 'dist/definitions.cjs' })
console.log(`dist/index.cjs: ${(statSync('dist/index.cjs').size / 1024).toFixed(1)} KiB, self-contained`)
