/// <reference lib="dom" />
// (the DOM types: these tests run functions inside the page with page.evaluate)
// The user's page in real headless Chromium: sign up, the HttpOnly cookie, live ticks valuing a
// holding, a revocation from a second device seen within 1 s, errors people meet, keyboard-only
// sign-in and a 360 px layout. Screenshots of each step go to test/artifacts/.
import t from 'tap'
import { adminSql, uniqueEmail } from './helper.js'
import { PASSWORD } from './auth-helper.js'
import { device, firstPage, serve, shot, signIn } from './browser-helper.js'

t.test('sign up, cookie out of reach of scripts, ticks value the portfolio, revoked from a second device', async t => {
  const { origin } = await serve(t)
  const email = uniqueEmail('page')
  const laptop = await device(t)
  const page = await firstPage(laptop)
  await page.goto(origin + '/')
  await page.waitForSelector('#signed-out:not([hidden])')
  await shot(page, '01-signed-out')

  // sign up
  await page.fill('#register-email', email)
  await page.fill('#register-password', PASSWORD)
  await page.click('#register-form button[type=submit]')
  await page.waitForSelector('#signed-in:not([hidden])')
  t.equal(await page.textContent('#whoami'), email, 'the page says who is signed in')

  // the session cookie exists but no script can read it
  const cookies = await laptop.cookies(origin)
  const sid = cookies.find(c => c.name === 'sid')
  t.ok(sid, 'the browser holds the session cookie')
  t.equal(sid?.httpOnly, true, 'HttpOnly')
  t.equal(sid?.sameSite, 'Lax')
  const visible = await page.evaluate(() => document.cookie)
  t.notMatch(visible, /sid=/, 'document.cookie does not show the session')

  // live ticks, then a holding valued at them
  await page.waitForSelector('#ticker[data-state="live"]')
  await page.waitForFunction(() => Number(document.getElementById('tick-count')?.textContent) >= 3)
  await page.fill('#holding-symbol', 'AAPL')
  await page.fill('#holding-quantity', '10')
  await page.click('#holding-form button[type=submit]')
  await page.waitForSelector('#portfolio-list tr[data-symbol="AAPL"]')
  const firstValue = await page.waitForFunction(() => {
    const v = document.querySelector('#portfolio-list .portfolio-total')?.textContent ?? '…'
    return v !== '…' ? v : null
  })
  const before = await firstValue.jsonValue()
  // the random walk moves every price by at least a cent each tick: the value must change
  await page.waitForFunction(prev => {
    const v = document.querySelector('#portfolio-list .portfolio-total')?.textContent
    return v !== undefined && v !== '…' && v !== prev
  }, before, { timeout: 10_000 })
  const after = await page.textContent('#portfolio-list .portfolio-total')
  t.not(after, before, `the portfolio value moved with the ticks (${before} → ${after})`)
  await shot(page, '02-signed-in-live')

  // record a buy: the holding's quantity grows
  await page.fill('#trade-symbol', 'AAPL')
  await page.fill('#trade-quantity', '5')
  await page.fill('#trade-price', '100')
  await page.click('#trade-form button[type=submit]')
  await page.waitForSelector('#portfolio-list tr[data-symbol="AAPL"][data-quantity="15"]')
  t.pass('a recorded buy shows in the holding (10 + 5)')

  // a second device signs in and revokes the first from its device list
  const phone = await device(t, 400)
  const other = await firstPage(phone)
  await other.goto(origin + '/')
  await other.waitForSelector('#signed-out:not([hidden])')
  await signIn(other, email, PASSWORD)
  await other.waitForSelector('#devices li:not(.current) button')
  t.equal(await other.locator('#devices li').count(), 2, 'the second device lists both sessions')
  t.equal(await other.locator('#devices li.current').count(), 1, 'and marks itself')
  await shot(other, '03-second-device')

  const revoked = other.waitForResponse(r => r.request().method() === 'DELETE' && r.url().includes('/api/auth/sessions/'))
  await other.click('#devices li:not(.current) button')
  t.equal((await revoked).status(), 204)
  const start = Date.now()
  await page.waitForSelector('#signed-out-notice:not([hidden])', { timeout: 5000 })
  const elapsed = Date.now() - start
  t.ok(elapsed < 1000, `the first page said it was signed out within 1 s (${elapsed} ms)`)
  t.match(await page.textContent('#signed-out-notice'), /signed out/i)
  t.equal(await page.getAttribute('#ticker', 'data-state'), 'stopped', 'its ticker stopped')
  const ticks = await page.textContent('#tick-count')
  await page.waitForTimeout(500)
  t.equal(await page.textContent('#tick-count'), ticks, 'no tick arrives after the revocation')
  t.equal(await page.isVisible('#portfolio-list .portfolio'), false, 'the portfolio is no longer shown')
  await shot(page, '04-revoked-notice')
})

t.test('clear messages: wrong password, account backoff with its wait, disabled account, lockdown', async t => {
  const { origin, app } = await serve(t, { LOGIN_BACKOFF_THRESHOLD: '2' })
  const email = uniqueEmail('msg')
  const reg = await app.inject({ method: 'POST', url: '/api/auth/register', headers: { origin }, payload: { email, password: PASSWORD } })
  t.equal(reg.statusCode, 201)
  const ctx = await device(t)
  const page = await firstPage(ctx)
  await page.goto(origin + '/')
  await page.waitForSelector('#signed-out:not([hidden])')
  const attempt = async (password: string): Promise<string> => {
    await page.fill('#login-email', email)
    await page.fill('#login-password', password)
    const answered = page.waitForResponse(r => r.url().endsWith('/api/auth/login'))
    await page.click('#login-form button[type=submit]')
    await answered
    await page.waitForFunction(() => document.getElementById('login-status')?.textContent !== 'Working…')
    return (await page.textContent('#login-status')) ?? ''
  }
  t.equal(await attempt('wrong password 123456'), 'Wrong email or password.')
  await attempt('wrong password 123456')
  const backoff = await attempt('wrong password 123456')
  t.match(backoff, /Too many failed sign-ins for this account\. Try again in \d+ seconds?\./, 'the backoff says how long to wait')
  await shot(page, '05-backoff-message')

  const disabled = uniqueEmail('disabled')
  const made = await app.inject({ method: 'POST', url: '/api/auth/register', headers: { origin }, payload: { email: disabled, password: PASSWORD } })
  await adminSql(t)`update users set disabled_at = now() where id = ${made.json().user.id}`
  await page.fill('#login-email', disabled)
  await page.fill('#login-password', PASSWORD)
  await page.click('#login-form button[type=submit]')
  await page.waitForFunction(() => /disabled/.test(document.getElementById('login-status')?.textContent ?? ''))
  t.equal(await page.textContent('#login-status'), 'This account is disabled. Contact support to have it enabled again.')

  const lockdown = await serve(t, { SECURITY_LOCKDOWN: 'true' })
  await page.goto(lockdown.origin + '/')
  await page.waitForSelector('#signed-out:not([hidden])')
  await page.fill('#login-email', email)
  await page.fill('#login-password', PASSWORD)
  await page.click('#login-form button[type=submit]')
  await page.waitForFunction(() => /lockdown/.test(document.getElementById('login-status')?.textContent ?? ''))
  t.match(await page.textContent('#login-status'), /security lockdown/)
})

t.test('keyboard only: sign in with Tab and Enter, focus visible; 360 px wide has no horizontal scroll', async t => {
  const { origin, app } = await serve(t)
  const email = uniqueEmail('keys')
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/register', headers: { origin }, payload: { email, password: PASSWORD } })).statusCode, 201)
  const ctx = await device(t, 360)
  const page = await firstPage(ctx)
  await page.goto(origin + '/')
  await page.waitForSelector('#signed-out:not([hidden])')
  // from the top of the page: skip link, three nav links, then the email field
  let guard = 0
  while (await page.evaluate(() => document.activeElement?.id) !== 'login-email' && guard++ < 10) await page.keyboard.press('Tab')
  t.equal(await page.evaluate(() => document.activeElement?.id), 'login-email', 'Tab reaches the email field')
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement as Element).outlineStyle)
  t.equal(outline, 'solid', 'the focused field shows a focus ring')
  await page.keyboard.type(email)
  await page.keyboard.press('Tab')
  t.equal(await page.evaluate(() => document.activeElement?.id), 'login-password')
  await page.keyboard.type(PASSWORD)
  await page.keyboard.press('Enter')
  await page.waitForSelector('#signed-in:not([hidden])')
  t.equal(await page.evaluate(() => document.activeElement?.id), 'welcome', 'focus moves to the signed-in heading')
  await page.waitForSelector('#ticker[data-state="live"]')
  const widths = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }))
  t.equal(widths.client, 360)
  t.ok(widths.scroll <= widths.client, `no horizontal scroll at 360 px (scrollWidth ${widths.scroll})`)
  await shot(page, '06-narrow-360')
})
