// The Origin check, through real requests: cookie-carrying state changes and the login/register
// entry points need one of our origins; Bearer-only calls and reads are never checked.
import t, { type Test } from 'tap'
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import fp from 'fastify-plugin'
import cookie from '@fastify/cookie'
import type { Env } from '../src/config/config.js'
import { csrfOriginCheck } from '../src/core/csrf.js'
import { build, testConfig } from './helper.js'
import '../src/auth/context.js'

const ORIGIN = 'https://app.example.test'
const OTHER_ORIGIN = 'https://admin.example.test'
const ENV = { ALLOWED_ORIGINS: `${ORIGIN},${OTHER_ORIGIN}` }

/** build(t) with an echo route answering every method */
function buildWithRoutes (t: Test, overrides: Env = {}): Promise<FastifyInstance> {
  return build(t, { ...ENV, ...overrides }, {
    routes: app => {
      for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const) {
        app.route({ method, url: '/api/test/echo', handler: async () => ({ ok: true }) })
      }
    }
  })
}

function refused (t: Test, res: LightMyRequestResponse, what: string): void {
  t.equal(res.statusCode, 403, what)
  const body = res.json()
  t.same({ ...body, message: undefined }, { statusCode: 403, code: 'CSRF_ORIGIN_REJECTED', error: 'Forbidden', message: undefined }, what)
  // the message tells a curl user or a server on another port what to change
  t.match(body.message, /^Cross-site request refused: the Origin header \(.*\) is not in the server's ALLOWED_ORIGINS$/, what)
}

/** got past the check: the route's own body validation answered (the body sent is empty) */
function passed (t: Test, res: LightMyRequestResponse, what: string): void {
  t.equal(res.statusCode, 400, what)
  t.equal(res.json().code, 'VALIDATION_FAILED', what)
}

const SID = { sid: 'some-session-id' }

t.test('a cookie-carrying state change needs an allowed Origin', async t => {
  const app = await buildWithRoutes(t)
  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'] as const) {
    const ok = await app.inject({ method, url: '/api/test/echo', cookies: SID, headers: { origin: ORIGIN } })
    t.equal(ok.statusCode, 200, `${method} from our origin`)
    t.same(ok.json(), { ok: true })
    refused(t, await app.inject({ method, url: '/api/test/echo', cookies: SID, headers: { origin: 'https://evil.example' } }), `${method} from a foreign origin`)
    refused(t, await app.inject({ method, url: '/api/test/echo', cookies: SID }), `${method} with neither Origin nor Sec-Fetch-Site`)
  }
  t.equal((await app.inject({ method: 'POST', url: '/api/test/echo', cookies: SID, headers: { origin: OTHER_ORIGIN } })).statusCode, 200, 'every allowed origin counts')
})

t.test('anything but an exact match of an allowed origin is foreign', async t => {
  const app = await buildWithRoutes(t)
  const foreign = [
    'null', // sandboxed frames, opaque origins
    ORIGIN + '/',
    ORIGIN + ':8443',
    ORIGIN.replace('https', 'http'),
    ORIGIN.toUpperCase(),
    'https://app.example.test.evil.example',
    `${ORIGIN}, https://evil.example`,
    ''
  ]
  for (const origin of foreign) {
    refused(t, await app.inject({ method: 'POST', url: '/api/test/echo', cookies: SID, headers: { origin } }), `Origin: ${JSON.stringify(origin)}`)
  }
  // a same-origin Sec-Fetch-Site does not rescue a foreign Origin
  refused(t, await app.inject({ method: 'POST', url: '/api/test/echo', cookies: SID, headers: { origin: 'null', 'sec-fetch-site': 'same-origin' } }), 'Origin null + same-origin')
})

t.test('without Origin, Sec-Fetch-Site: same-origin is the only pass for a cookie request', async t => {
  const app = await buildWithRoutes(t)
  t.equal((await app.inject({ method: 'POST', url: '/api/test/echo', cookies: SID, headers: { 'sec-fetch-site': 'same-origin' } })).statusCode, 200)
  for (const site of ['same-site', 'cross-site', 'none']) {
    refused(t, await app.inject({ method: 'POST', url: '/api/test/echo', cookies: SID, headers: { 'sec-fetch-site': site } }), `Sec-Fetch-Site: ${site}`)
  }
})

t.test('reads, preflights, Bearer-only and cookie-less calls are not checked', async t => {
  const app = await buildWithRoutes(t)
  const evil = { origin: 'https://evil.example' }
  t.equal((await app.inject({ method: 'GET', url: '/api/test/echo', cookies: SID, headers: evil })).statusCode, 200, 'GET with the cookie')
  t.equal((await app.inject({ method: 'OPTIONS', url: '/api/test/echo', cookies: SID, headers: evil })).statusCode, 200, 'OPTIONS with the cookie')
  t.equal((await app.inject({ method: 'POST', url: '/api/test/echo', headers: { ...evil, authorization: 'Bearer abc.def.ghi' } })).statusCode, 200, 'Bearer only')
  t.equal((await app.inject({ method: 'DELETE', url: '/api/test/echo', headers: evil })).statusCode, 200, 'no credentials at all')
  t.equal((await app.inject({ method: 'POST', url: '/api/test/echo', cookies: { theme: 'dark' }, headers: evil })).statusCode, 200, 'an unrelated cookie')
  refused(t, await app.inject({ method: 'POST', url: '/api/test/echo', cookies: SID, headers: { ...evil, authorization: 'Bearer abc.def.ghi' } }), 'Bearer plus the session cookie')
})

t.test('the cookie name follows the config (__Host-sid when Secure)', async t => {
  const app = await buildWithRoutes(t, { COOKIE_SECURE: 'true' })
  const evil = { origin: 'https://evil.example' }
  refused(t, await app.inject({ method: 'POST', url: '/api/test/echo', cookies: { '__Host-sid': 'x' }, headers: evil }), '__Host-sid')
  t.equal((await app.inject({ method: 'POST', url: '/api/test/echo', cookies: SID, headers: evil })).statusCode, 200, 'plain sid is not our cookie here')
})

t.test('login and register: browsers need our origin, non-browser clients pass', async t => {
  const app = await buildWithRoutes(t)
  for (const url of ['/api/auth/login', '/api/auth/register']) {
    refused(t, await app.inject({ method: 'POST', url, headers: { origin: 'https://evil.example' } }), `${url} from a foreign origin`)
    refused(t, await app.inject({ method: 'POST', url, headers: { origin: 'null' } }), `${url} from Origin null`)
    refused(t, await app.inject({ method: 'POST', url: url + '?next=/x', headers: { origin: 'https://evil.example' } }), `${url} with a query string`)
    refused(t, await app.inject({ method: 'POST', url, headers: { 'sec-fetch-site': 'cross-site' } }), `${url} cross-site without Origin`)
    passed(t, await app.inject({ method: 'POST', url, headers: { origin: ORIGIN }, payload: {} }), `${url} from our origin`)
    passed(t, await app.inject({ method: 'POST', url, headers: { 'sec-fetch-site': 'same-origin' }, payload: {} }), `${url} same-origin without Origin`)
    passed(t, await app.inject({ method: 'POST', url, headers: { 'user-agent': 'hallpass-ios/3.2' }, payload: {} }), `${url} from a non-browser client`)
    // a stale session cookie takes away the non-browser pass
    refused(t, await app.inject({ method: 'POST', url, cookies: SID }), `${url} with a cookie, no Origin`)
  }
})

t.test('the rejection has the house error shape and the security headers', async t => {
  const app = await build(t, ENV)
  // no such route: the check still runs first, so nothing about the route leaks cross-site
  const res = await app.inject({ method: 'POST', url: '/api/nope', cookies: SID, headers: { origin: 'https://evil.example' } })
  refused(t, res, 'unknown route')
  t.equal(res.headers['x-frame-options'], 'DENY')
  const health = await app.inject({ method: 'GET', url: '/api/health', cookies: SID, headers: { origin: 'https://evil.example' } })
  t.equal(health.statusCode, 200)
})

t.test('a session-authenticated request is checked even when the cookie is not in request.cookies', async t => {
  // a stand-in 'authenticate' that vouches by a test header: the real one is another issue
  const config = testConfig(ENV)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(cookie)
  await app.register(fp(async app => {
    app.decorateRequest('auth', null)
    app.addHook('onRequest', async request => {
      if (request.headers['x-test-auth'] === 'session') request.auth = { mode: 'session', userId: 'u1', email: 'u1@example.test', role: 'user', sessionPublicId: 'p1' }
      if (request.headers['x-test-auth'] === 'legacy') request.auth = { mode: 'legacy', userId: 'u1', email: 'u1@example.test', role: 'user', jti: 'j1', expiresAt: Date.now() + 60_000 }
    })
  }, { name: 'authenticate' }))
  await app.register(csrfOriginCheck, { config })
  app.post('/api/test/echo', async () => ({ ok: true }))
  await app.ready()

  const evil = { origin: 'https://evil.example' }
  refused(t, await app.inject({ method: 'POST', url: '/api/test/echo', headers: { ...evil, 'x-test-auth': 'session' } }), 'session mode')
  t.equal((await app.inject({ method: 'POST', url: '/api/test/echo', headers: { origin: ORIGIN, 'x-test-auth': 'session' } })).statusCode, 200, 'session mode, our origin')
  t.equal((await app.inject({ method: 'POST', url: '/api/test/echo', headers: { ...evil, 'x-test-auth': 'legacy' } })).statusCode, 200, 'legacy mode')
})

t.test('the refusal names the Origin that came (or that none did) and ALLOWED_ORIGINS', async t => {
  const app = await buildWithRoutes(t)
  const foreign = await app.inject({ method: 'POST', url: '/api/test/echo', cookies: SID, headers: { origin: 'http://127.0.0.1:4141' } })
  t.equal(foreign.statusCode, 403)
  t.equal(foreign.json().message, "Cross-site request refused: the Origin header (http://127.0.0.1:4141) is not in the server's ALLOWED_ORIGINS")
  const none = await app.inject({ method: 'POST', url: '/api/test/echo', cookies: SID })
  t.equal(none.statusCode, 403)
  t.equal(none.json().message, "Cross-site request refused: the Origin header (none was sent) is not in the server's ALLOWED_ORIGINS")
})

t.test('by default the allowed origins follow PORT and HOST: a server on 4141 takes its own pages\' requests', async t => {
  const app = await build(t, { PORT: '4141', HOST: '192.0.2.10' }, {
    routes: app => { app.post('/api/test/echo', async () => ({ ok: true })) }
  })
  for (const origin of ['http://127.0.0.1:4141', 'http://localhost:4141', 'http://192.0.2.10:4141']) {
    const res = await app.inject({ method: 'POST', url: '/api/test/echo', cookies: SID, headers: { origin } })
    t.equal(res.statusCode, 200, `${origin} is allowed`)
  }
  for (const origin of ['http://127.0.0.1:3000', 'http://localhost:3000', 'http://127.0.0.1:41410']) {
    const res = await app.inject({ method: 'POST', url: '/api/test/echo', cookies: SID, headers: { origin } })
    t.equal(res.statusCode, 403, `${origin} is not`)
    t.equal(res.json().code, 'CSRF_ORIGIN_REJECTED')
  }
})
