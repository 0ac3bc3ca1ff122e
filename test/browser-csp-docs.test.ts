/// <reference lib="dom" />
// (the DOM types: these tests run functions inside the page with page.evaluate)
// The pages' CSP and /docs in real headless Chromium: an injected inline script is blocked (a
// securitypolicyviolation event), and the API reference renders from local assets only.
import t from 'tap'
import { device, firstPage, serve, shot } from './browser-helper.js'

t.test('the CSP blocks an injected inline script; the pages carry the strict policy', async t => {
  const { app, origin } = await serve(t)
  const res = await app.inject('/')
  const csp = String(res.headers['content-security-policy'])
  t.match(csp, /default-src 'none'/)
  t.match(csp, /script-src 'self';/)
  t.match(csp, /style-src 'self';/)
  t.match(csp, /connect-src 'self' ws:\/\/localhost:80;|connect-src 'self' ws:\/\/localhost;/)
  t.match(csp, /frame-ancestors 'none'/)
  t.match(csp, /base-uri 'none'/)
  t.notMatch(csp, /unsafe-inline/)

  const ctx = await device(t)
  const page = await firstPage(ctx)
  await page.goto(origin + '/')
  await page.waitForSelector('#signed-out:not([hidden])')
  const outcome = await page.evaluate(async () => {
    const w = window as unknown as { injectedRan?: boolean }
    const seen = new Promise<string>(resolve => {
      document.addEventListener('securitypolicyviolation', e => resolve(e.violatedDirective), { once: true })
    })
    const s = document.createElement('script')
    s.textContent = 'window.injectedRan = true'
    document.body.append(s)
    const directive = await Promise.race([seen, new Promise<string>(resolve => setTimeout(() => resolve('none'), 2000))])
    return { directive, ran: w.injectedRan === true }
  })
  t.match(outcome.directive, /^script-src/, 'a securitypolicyviolation event named script-src')
  t.equal(outcome.ran, false, 'the inline script did not run')
  await shot(page, '14-csp')
})

t.test('/docs renders the API reference from local assets under its own CSP', async t => {
  const { origin } = await serve(t)
  const ctx = await device(t)
  const page = await firstPage(ctx)
  const foreign: string[] = []
  page.on('request', r => { if (!r.url().startsWith(origin) && !r.url().startsWith('data:')) foreign.push(r.url()) })
  const res = await page.goto(origin + '/docs')
  t.match(res?.headers()['content-security-policy'] ?? '', /script-src 'self';/)
  await page.waitForSelector('.swagger-ui .opblock', { timeout: 20_000 })
  t.ok(await page.locator('.opblock').count() > 10, 'the operations are listed')
  t.same(foreign, [], 'nothing was loaded from another origin')
  await shot(page, '15-docs')
})
