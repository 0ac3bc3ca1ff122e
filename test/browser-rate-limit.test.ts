/// <reference lib="dom" />
// (the DOM types: these tests run functions inside the page with page.waitForFunction)
// The user's page in real headless Chromium when the per-IP limit of sign-in is reached: the
// server answers 429 RATE_LIMITED with Retry-After, and the page says so in words, with that wait.
import t from 'tap'
import { uniqueEmail } from './helper.js'
import { PASSWORD } from './auth-helper.js'
import { device, firstPage, serve, shot } from './browser-helper.js'

t.test('the per-IP sign-in limit: a clear message with the wait from Retry-After', async t => {
  // a tiny limit so it is reached at the third attempt (the account backoff starts later)
  const { origin, app } = await serve(t, { RATE_LIMIT_LOGIN: '2/1m', LOGIN_BACKOFF_THRESHOLD: '10', RATE_LIMIT_REGISTER: '1/1h' })
  const email = uniqueEmail('limited')
  // registered from another address: the page's own address keeps its one registration
  const reg = await app.inject({ method: 'POST', url: '/api/auth/register', remoteAddress: '192.0.2.10', headers: { origin }, payload: { email, password: PASSWORD } })
  t.equal(reg.statusCode, 201)
  const page = await firstPage(await device(t))
  await page.goto(origin + '/')
  await page.waitForSelector('#signed-out:not([hidden])')

  const attempt = async (password: string): Promise<{ status: number; code: string; retryAfter: string | null; shown: string }> => {
    await page.fill('#login-email', email)
    await page.fill('#login-password', password)
    const answered = page.waitForResponse(r => r.url().endsWith('/api/auth/login'))
    await page.click('#login-form button[type=submit]')
    const res = await answered
    await page.waitForFunction(() => document.getElementById('login-status')?.textContent !== 'Working…')
    const body = await res.json() as { code?: string }
    return { status: res.status(), code: body.code ?? '', retryAfter: await res.headerValue('retry-after'), shown: (await page.textContent('#login-status')) ?? '' }
  }

  t.equal((await attempt('wrong password 123456')).shown, 'Wrong email or password.')
  t.equal((await attempt('wrong password 123456')).shown, 'Wrong email or password.')
  // the right password changes nothing: the limit counts requests from this address
  const limited = await attempt(PASSWORD)
  t.equal(limited.status, 429)
  t.equal(limited.code, 'RATE_LIMITED')
  const seconds = Number(limited.retryAfter)
  t.ok(Number.isInteger(seconds) && seconds >= 1 && seconds <= 60, `Retry-After ${limited.retryAfter} s, within the 1 minute window`)
  t.equal(limited.shown, `Too many requests from your network. Try again in ${seconds} second${seconds === 1 ? '' : 's'}.`, 'the wait the server gave, in words')
  t.notOk(await page.isVisible('#signed-in'), 'still signed out')
  await shot(page, '07-rate-limited-message')

  // a long wait reads in minutes: the registration limit (1 per hour) from the sign-up form
  const signUp = async (): Promise<{ status: number; retryAfter: string | null; shown: string }> => {
    await page.fill('#register-email', uniqueEmail('limited-signup'))
    await page.fill('#register-password', PASSWORD)
    const answered = page.waitForResponse(r => r.url().endsWith('/api/auth/register'))
    await page.click('#register-form button[type=submit]')
    const res = await answered
    await page.waitForFunction(() => !/Working/.test(document.getElementById('register-status')?.textContent ?? 'Working'))
    return { status: res.status(), retryAfter: await res.headerValue('retry-after'), shown: (await page.textContent('#register-status')) ?? '' }
  }
  t.equal((await signUp()).status, 201, 'the first registration from this address')
  await page.waitForSelector('#signed-in:not([hidden])')
  await page.click('#logout')
  await page.waitForSelector('#signed-out:not([hidden])')
  const second = await signUp()
  t.equal(second.status, 429)
  const minutes = Math.ceil(Number(second.retryAfter) / 60)
  t.ok(minutes >= 59 && minutes <= 60, `Retry-After ${second.retryAfter} s`)
  t.equal(second.shown, `Too many requests from your network. Try again in ${minutes} minutes.`)
  await shot(page, '08-rate-limited-sign-up')
})
