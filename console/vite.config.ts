import { fileURLToPath } from 'node:url'
import preact from '@preact/preset-vite'
import { defineConfig } from 'vite'

/**
 * The web console, built into dist/console and served by the admin API at /ui/. Everything it loads comes from that
 * folder (no CDN), as files: no inline script or style, so it runs under the API's same-origin Content-Security-Policy.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/ui/',
  plugins: [preact({ prerender: { enabled: false } })],
  build: {
    // scripts/build-console.mjs builds into a staging folder and moves the result here
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    // no inlined assets: a data: URL would need the policy to allow it
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: 'es2022',
  },
})
