// Real headless Chromium (Debian's package) driven by playwright-core, against a real server
// listening on a free port. Each test gets a fresh browser profile; each step can save a
// screenshot under test/artifacts/ (git-ignored).
import { mkdtemp, mkdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import type { FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import { build, freePort } from './helper.js'

const CHROMIUM = '/usr/bin/chromium'
const ARTIFACTS = join(import.meta.dirname, 'artifacts')

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync']

export interface Served { app: FastifyInstance, origin: string }

/** the app listening on 127.0.0.1:<free port>, that origin allowed for cookies and the socket */
export async function serve (t: Test, env: Record<string, string> = {}): Promise<Served> {
  const port = await freePort()
  const origin = `http://127.0.0.1:${port}`
  const app = await build(t, { ALLOWED_ORIGINS: origin, PRICE_TICK_MS: '100', ...env })
  await app.listen({ port, host: '127.0.0.1' })
  return { app, origin }
}

/**
 * A device: Chromium with its own fresh user-data-dir (mkdtemp), so nothing is shared with
 * another device or an earlier run. Two devices are two browser processes, as two people or
 * two computers would be.
 */
export async function device (t: Test, width = 1100): Promise<BrowserContext> {
  const profile = await mkdtemp(join(tmpdir(), 'hallpass-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width, height: 900 }
  })
  t.teardown(async () => {
    await context.close()
    await rm(profile, { recursive: true, force: true })
  })
  return context
}

/** the page a fresh device opens with (a persistent context starts with one) */
export async function firstPage (context: BrowserContext): Promise<Page> {
  return context.pages()[0] ?? await context.newPage()
}

export async function shot (page: Page, name: string, fullPage = true): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true })
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage })
}

/** fills the visible sign-in form and waits for the signed-in view */
export async function signIn (page: Page, email: string, password: string): Promise<void> {
  await page.fill('#login-email', email)
  await page.fill('#login-password', password)
  await page.click('#login-form button[type=submit]')
  await page.waitForSelector('#signed-in:not([hidden])')
}
