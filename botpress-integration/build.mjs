// Bundles the integration into one self-contained file, dist/index.cjs: the SDK, the client and
// the WASM core (inlined as base64 by pkg/inline.mjs), so nothing is read from disk at run time.
// `bp deploy` bundles src/index.ts the same way; this build is what the tests drive.
import { build } from 'esbuild'
import { statSync } from 'node:fs'

const outfile = 'dist/index.cjs'
await build({
  entryPoints: ['src/index.ts'],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node18',
  sourcemap: true,
  logLevel: 'warning',
})
console.log(`${outfile}: ${(statSync(outfile).size / 1024).toFixed(1)} KiB, self-contained`)
