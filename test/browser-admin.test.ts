/// <reference lib="dom" />
// (the DOM types: these tests run functions inside the page with page.evaluate)
// The operator's page in real headless Chromium: an admin revokes a user's session from /admin
// and that user's open page says so within 1 s; the migration's progress (the legacy report's
// numbers) is on the page; a non-admin gets no data and a clear message.
import t from 'tap'
import { adminSql, build, uniqueEmail } from './helper.js'
import { PASSWORD, register } from './auth-helper.js'
import { legacyLogin } from './legacy-helper.js'
import { ownSchema } from './legacy-report-helper.js'
import { device, firstPage, serve, shot, signIn } from './browser-helper.js'

async function registerUser (app: import('fastify').FastifyInstance, origin: string, email: string): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/api/auth/register', headers: { origin }, payload: { email, password: PASSWORD } })
  if (res.statusCode !== 201) throw new Error(`register: ${res.statusCode}`)
  // end the session registration opened: the only session left is the browser's
  const cookie = String(res.headers['set-cookie']).split(';')[0] ?? ''
  const out = await app.inject({ method: 'POST', url: '/api/auth/logout', headers: { origin, cookie } })
  if (out.statusCode !== 204) throw new Error(`logout: ${out.statusCode}`)
  return res.json().user.id as string
}

t.test('an admin finds a user by email and revokes their session: the user\'s page says so within 1 s', async t => {
  // one user with two live legacy refresh families, in a refresh_tokens of this test's own
  const seed = await build(t, { NEW_AUTH_PERCENTAGE: '0' })
  const legacyUser = await register(seed)
  await legacyLogin(seed, legacyUser.email)
  const { appUrl } = await ownSchema(t, legacyUser.userId)
  const { app, origin } = await serve(t, { DATABASE_URL: appUrl })
  const sql = adminSql(t)
  const adminEmail = uniqueEmail('admin')
  const userEmail = uniqueEmail('victim')
  const adminId = await registerUser(app, origin, adminEmail)
  await registerUser(app, origin, userEmail)
  await sql`update users set role = 'admin' where id = ${adminId}`

  const userDevice = await device(t)
  const userPage = await firstPage(userDevice)
  await userPage.goto(origin + '/')
  await userPage.waitForSelector('#signed-out:not([hidden])')
  await signIn(userPage, userEmail, PASSWORD)
  await userPage.waitForSelector('#ticker[data-state="live"]')

  const adminDevice = await device(t)
  const adminPage = await firstPage(adminDevice)
  await adminPage.goto(origin + '/')
  await adminPage.waitForSelector('#signed-out:not([hidden])')
  await signIn(adminPage, adminEmail, PASSWORD)
  await adminPage.goto(origin + '/admin')
  await adminPage.waitForSelector('#console:not([hidden])')
  await adminPage.waitForFunction(() => (document.getElementById('rollout-facts')?.children.length ?? 0) > 0)
  t.match(await adminPage.textContent('#rollout-facts'), /Effective percentage\s*100 %/, 'the rollout is shown')
  t.match(await adminPage.textContent('#rollout-facts'), /Logins \(session\)/, 'logins by mode are shown')
  t.match(await adminPage.textContent('#device-facts'), /Active sessions/)
  t.match(await adminPage.textContent('#rollout-facts'), /Legacy tokens\s*accepted/, 'the legacy path is shown as accepted')

  await adminPage.waitForSelector('#migration-verdict:not([hidden])')
  const migration = await adminPage.textContent('#migration-facts') ?? ''
  t.match(migration, /Users still on legacy refresh families\s*1(?!\d)/, 'the users on legacy families')
  t.match(migration, /Live legacy refresh families\s*2(?!\d)/, 'their families')
  t.match(migration, /Of them covered by the rollout \(move at next refresh\)\s*1(?!\d)/, 'how many the rollout covers')
  t.match(migration, /Of them staying on legacy\s*0(?!\d)/)
  t.match(migration, /Rollout the servers apply\s*100 % on 1 server\(s\)/)
  t.match(await adminPage.textContent('#migration-verdict'), /^Verdict: not yet: 1 user still holds 2 live legacy refresh families; 1 of them is in the sessions bucket at 100 %/)

  await adminPage.fill('#find-email', userEmail.toUpperCase())
  await adminPage.click('#find-form button[type=submit]')
  await adminPage.waitForSelector('#user-sessions li[data-session] button')
  t.match(await adminPage.textContent('#user-facts'), userEmail, 'the email search (any case) found the user')
  t.equal(await adminPage.locator('#user-sessions li[data-session]').count(), 1, 'their one session is listed')
  await shot(adminPage, '10-admin-user-found')

  const revoked = adminPage.waitForResponse(r => r.request().method() === 'DELETE' && r.url().includes('/api/admin/users/'))
  await adminPage.click('#user-sessions li[data-session] button')
  t.equal((await revoked).status(), 204)
  const start = Date.now()
  await userPage.waitForSelector('#signed-out-notice:not([hidden])', { timeout: 5000 })
  const elapsed = Date.now() - start
  t.ok(elapsed < 1000, `the user's page said it was signed out within 1 s (${elapsed} ms)`)
  t.equal(await userPage.getAttribute('#ticker', 'data-state'), 'stopped')
  await shot(userPage, '11-user-revoked-by-admin')

  // the lookup and the revocation are in the audit log, and the page shows them (audit rows are
  // written in batches: flush the one the revocation queued before reading the table)
  await app.audit.flush()
  const rows = await sql<{ type: string, details: Record<string, unknown> }[]>`
    select type, details from audit_logs where details->>'adminId' = ${adminId} order by created_at`
  t.ok(rows.some(r => r.type === 'ADMIN_READ' && r.details.read === 'user_by_email'), 'the email lookup is audited')
  t.ok(rows.some(r => r.type === 'ADMIN_SESSIONS_REVOKED' && r.details.scope === 'one'), 'the revocation is audited')
  await sql`insert into audit_logs (type, user_id, details) values ('TOKEN_REUSE_ATTACK', ${adminId}, '{}'::jsonb)`
  await adminPage.fill('#audit-type', 'TOKEN_REUSE_ATTACK')
  await adminPage.click('#audit-form button[type=submit]')
  await adminPage.waitForSelector('#audit-rows tr.audit-flagged')
  t.equal(await adminPage.locator('#audit-rows tr').count(), await adminPage.locator('#audit-rows tr.audit-flagged').count(), 'the type filter kept only the marked rows')
  await adminPage.fill('#audit-type', '')
  await adminPage.click('#audit-form button[type=submit]')
  await adminPage.waitForFunction(() => document.querySelectorAll('#audit-rows tr:not(.audit-flagged)').length > 0)
  await adminPage.setViewportSize({ width: 1100, height: 1400 })
  await shot(adminPage, '12-admin-console', false)
})

t.test('a non-admin opening /admin sees a clear message and no data', async t => {
  const { app, origin } = await serve(t)
  const email = uniqueEmail('plain')
  await registerUser(app, origin, email)
  const ctx = await device(t)
  const page = await firstPage(ctx)
  const calls: Array<{ url: string, status: number }> = []
  page.on('response', r => { if (r.url().includes('/api/admin/')) calls.push({ url: r.url(), status: r.status() }) })
  await page.goto(origin + '/')
  await page.waitForSelector('#signed-out:not([hidden])')
  await signIn(page, email, PASSWORD)
  await page.goto(origin + '/admin')
  await page.waitForSelector('#access:not([hidden])')
  t.match(await page.textContent('#access'), /administrators only/)
  t.equal(await page.isVisible('#console'), false, 'no section of the console is shown')
  t.equal(await page.textContent('#rollout-facts'), '', 'no rollout data reached the page')
  t.equal(await page.textContent('#migration-facts'), '', 'no migration numbers reached the page')
  t.ok(calls.length > 0 && calls.every(c => c.status === 403), `every admin call answered 403 (${calls.length})`)
  await shot(page, '13-admin-forbidden')
})
