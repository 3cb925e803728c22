import { mkdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { ensureConsoleBuilt } from '../../scripts/build-console.mjs'

interface Teardown { teardown: (fn: () => unknown) => void }

/** Debian's `chromium` (.ci/run installs it); CHROMIUM_PATH names another build. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Flags for a headless browser in CI: no sandbox (root in a container), no GPU, and no traffic of its own. */
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run',
]

/** Screenshots of the main views land here (.tap/ is gitignored): test artefacts, never committed. */
export const SCREENSHOT_DIR = resolve('.tap/screenshots')

export interface ConsolePage {
  page: Page
  /** errors the page logged (a Content-Security-Policy violation is one) and uncaught exceptions; not error statuses */
  errors: string[]
  /** every URL the page requested: the console must need nothing beyond the API's origin */
  requests: string[]
  screenshot: (name: string) => Promise<string>
}

let shared: Promise<Browser> | undefined

/** One headless Chromium for the test process (closed after the test), with the console built if it is stale. */
export async function consoleBrowser (t: Teardown): Promise<Browser> {
  await ensureConsoleBuilt({ logLevel: 'error' })
  shared ??= chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
  const browser = await shared
  t.teardown(async () => {
    shared = undefined
    await browser.close()
  })
  return browser
}

/** A fresh browser context (its own session storage) on the console of the API at `apiUrl`. */
export async function openConsole (t: Teardown, browser: Browser, apiUrl: string): Promise<ConsolePage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  t.teardown(() => context.close())
  const page = await context.newPage()
  // a limit on waiting for a state (a move through the local runtime takes a second or two), never a timed assertion
  page.setDefaultTimeout(30_000)
  const errors: string[] = []
  const requests: string[] = []
  page.on('console', (message) => {
    // an answered error status (a 412, the 404 of a route not built yet) is the console's to show, not a page error
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource: the server responded')) errors.push(message.text())
  })
  page.on('pageerror', (error) => errors.push(error.message))
  page.on('request', (request) => requests.push(request.url()))
  await page.goto(`${apiUrl}/ui/`)
  await mkdir(SCREENSHOT_DIR, { recursive: true })
  return {
    page,
    errors,
    requests,
    screenshot: async (name) => {
      const path = join(SCREENSHOT_DIR, `${name}.png`)
      await page.screenshot({ path, fullPage: true })
      return path
    },
  }
}

/** Signs in through the form, as a person would: the `Token` field and the `Sign in` button. */
export async function signIn (page: Page, token: string): Promise<void> {
  await page.getByLabel('Token').fill(token)
  await page.getByRole('button', { name: 'Sign in' }).click()
}
