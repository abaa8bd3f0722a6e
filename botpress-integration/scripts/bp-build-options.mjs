// esbuild's options as `bp build` (CLI 5.5.6) sets them for the Node bundle `bp deploy` uploads:
// minified (its --minify defaults to true), names kept, es2020, no legal comments. The
// integration's and the plugin's own build.mjs use them, so their bundles' bytes and cold start
// are the deployed ones'.
export const BP_BUILD_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'es2020',
  minify: true,
  keepNames: true,
  legalComments: 'none',
  logLevel: 'warning',
}
