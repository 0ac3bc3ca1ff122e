// Lockdown and the login-CSRF rule attach to the routes they protect (a scope or a route flag),
// not to a list of URLs: a route added inside the portfolio plugin is locked by being there.
import t from 'tap'
import Fastify from 'fastify'
import cookie from '@fastify/cookie'
import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import { build, testConfig } from './helper.js'
import { ORIGIN, browser, register } from './auth-helper.js'
import { csrfOriginCheck } from '../src/core/csrf.js'
import { installErrorHandler } from '../src/core/error-handler.js'
import { lockRoutesInScope, lockdownPlugin } from '../src/core/lockdown.js'

// a data route nobody added to any list: it only lives in the portfolio scope
const newDataRoute: FastifyPluginAsync = async app => {
  app.get('/api/experimental/new-data', async () => ({ ok: true }))
  app.post('/api/experimental/new-data', async () => ({ ok: true }))
}

t.test('a route registered inside the portfolio plugin is locked in lockdown without editing a list', async t => {
  const locked = await build(t, { SECURITY_LOCKDOWN: 'true' }, { portfolioExtraRoutes: newDataRoute })
  for (const method of ['GET', 'POST'] as const) {
    const res = await locked.inject({ method, url: '/api/experimental/new-data', headers: { origin: ORIGIN }, ...(method === 'POST' ? { payload: {} } : {}) })
    t.equal(res.statusCode, 503, `${method} in lockdown`)
    t.equal(res.json().code, 'SECURITY_LOCKDOWN', `${method} in lockdown`)
  }
  // the admin audit route lives in auth's admin scope, locked the same way
  const audit = await locked.inject({ method: 'GET', url: '/api/admin/audit' })
  t.equal(audit.statusCode, 503)
  t.equal(audit.json().code, 'SECURITY_LOCKDOWN')
  // outside the locked scopes nothing changes
  t.equal((await locked.inject('/api/health')).statusCode, 200, 'health is not locked')
  t.equal((await locked.inject('/api/auth/status')).statusCode, 200, 'status is not locked')
})

t.test('the same route without lockdown: guarded by the scope\'s requireUser, served to a user', async t => {
  const app = await build(t, {}, { portfolioExtraRoutes: newDataRoute })
  const anonymous = await app.inject({ method: 'GET', url: '/api/experimental/new-data' })
  t.equal(anonymous.statusCode, 401)
  t.equal(anonymous.json().code, 'AUTH_REQUIRED')
  const user = await register(app)
  const res = await app.inject({ method: 'GET', url: '/api/experimental/new-data', headers: browser(user.cookie) })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { ok: true })
})

t.test('lockRoutesInScope locks only its own scope; a route flag locks one route', async t => {
  const app = Fastify()
  t.teardown(() => app.close())
  installErrorHandler(app)
  await app.register(lockdownPlugin, { config: testConfig({ SECURITY_LOCKDOWN: 'true' }) })
  await app.register(async scope => {
    lockRoutesInScope(scope)
    scope.get('/inside', async () => 'in')
    await scope.register(async child => { child.get('/inside/child', async () => 'child') })
  })
  await app.register(async sibling => { sibling.get('/sibling', async () => 'sibling') })
  app.get('/flagged', { config: { lockdown: true } }, async () => 'flagged')
  app.get('/plain', async () => 'plain')
  await app.ready()
  for (const url of ['/inside', '/inside/child', '/flagged']) {
    const res = await app.inject(url)
    t.equal(res.statusCode, 503, url)
    t.equal(res.json().code, 'SECURITY_LOCKDOWN', url)
  }
  for (const url of ['/sibling', '/plain']) t.equal((await app.inject(url)).statusCode, 200, url)
})

t.test('login CSRF applies to any route flagged csrfEntryPoint, and only to those', async t => {
  const config = testConfig({ ALLOWED_ORIGINS: ORIGIN })
  const app = Fastify()
  t.teardown(() => app.close())
  installErrorHandler(app)
  await app.register(cookie)
  await app.register(fp(async app => { app.decorateRequest('auth', null) }, { name: 'authenticate' }))
  await app.register(csrfOriginCheck, { config })
  app.post('/api/experimental/sign-in', { config: { csrfEntryPoint: true } }, async () => ({ ok: true }))
  app.post('/api/experimental/other', async () => ({ ok: true }))
  await app.ready()

  const evil = { origin: 'https://evil.example' }
  const refused = await app.inject({ method: 'POST', url: '/api/experimental/sign-in', headers: evil, payload: {} })
  t.equal(refused.statusCode, 403, 'a foreign origin on a flagged entry point')
  t.equal(refused.json().code, 'CSRF_ORIGIN_REJECTED')
  t.equal((await app.inject({ method: 'POST', url: '/api/experimental/sign-in?x=1', headers: evil, payload: {} })).statusCode, 403, 'a query string does not dodge it')
  t.equal((await app.inject({ method: 'POST', url: '/api/experimental/sign-in', headers: { origin: ORIGIN }, payload: {} })).statusCode, 200, 'our origin')
  t.equal((await app.inject({ method: 'POST', url: '/api/experimental/sign-in', payload: {} })).statusCode, 200, 'no Origin, no Sec-Fetch-Site: not a browser')
  t.equal((await app.inject({ method: 'POST', url: '/api/experimental/other', headers: evil, payload: {} })).statusCode, 200, 'unflagged, no cookie: not checked')
})
