// Every response carries the security headers — successes, errors and 404s alike — with the
// page CSP only on HTML and HSTS only in production.
import t from 'tap'
import { Errors } from '../src/core/errors.js'
import { API_CSP, PAGE_CSP, HSTS } from '../src/core/security-headers.js'
import { build } from './helper.js'

const COMMON = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'strict-origin-when-cross-origin',
  'cross-origin-opener-policy': 'same-origin'
}

t.test('a JSON response carries the common headers and the API CSP, no HSTS outside production', async t => {
  const app = await build(t)
  const res = await app.inject('/api/health')
  t.equal(res.statusCode, 200)
  t.match(res.headers, { ...COMMON, 'content-security-policy': API_CSP })
  t.equal(res.headers['content-security-policy'], "default-src 'none'; frame-ancestors 'none'")
  t.notOk('strict-transport-security' in res.headers)
})

t.test('errors and 404s carry them too', async t => {
  const app = await build(t, {}, {
    routes: app => {
      app.get('/api/test/forbidden', async () => { throw new Errors.AUTH_FORBIDDEN() })
      app.get('/api/test/boom', async () => { throw new Error('a bug') })
    }
  })
  for (const [url, status] of [['/api/nope', 404], ['/api/test/forbidden', 403], ['/api/test/boom', 500]] as const) {
    const res = await app.inject(url)
    t.equal(res.statusCode, status, url)
    t.match(res.headers, { ...COMMON, 'content-security-policy': API_CSP }, url)
  }
})

t.test('HTML gets the page CSP; a route that sets its own policy keeps it', async t => {
  const app = await build(t, {}, {
    routes: app => {
      app.get('/test/page', async (_req, reply) => reply.type('text/html; charset=utf-8').send('<!doctype html><p>hi</p>'))
      app.get('/test/text', async () => 'plain')
      app.get('/test/own-csp', async (_req, reply) => {
        return reply.header('content-security-policy', "default-src 'self'; script-src 'nonce-abc'").type('text/html').send('<p>x</p>')
      })
    }
  })
  const page = await app.inject('/test/page')
  t.equal(page.headers['content-security-policy'], PAGE_CSP)
  t.match(page.headers, COMMON)
  // what the browser receives, not the constant: scripts only from our origin, nothing inline
  const pageCsp = String(page.headers['content-security-policy'])
  t.match(pageCsp, /(^|; )script-src 'self'(;|$)/)
  t.match(pageCsp, /(^|; )default-src /)
  t.notMatch(pageCsp, /unsafe-inline|unsafe-eval|\*/)

  const text = await app.inject('/test/text')
  t.match(text.headers['content-type'], /^text\/plain/)
  t.equal(text.headers['content-security-policy'], API_CSP)

  const own = await app.inject('/test/own-csp')
  t.equal(own.headers['content-security-policy'], "default-src 'self'; script-src 'nonce-abc'")
  t.match(own.headers, COMMON)
})

t.test('production adds HSTS', async t => {
  const app = await build(t, { NODE_ENV: 'production' })
  const res = await app.inject('/api/health')
  t.equal(res.statusCode, 200)
  t.equal(res.headers['strict-transport-security'], HSTS)
  t.equal(res.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains', 'one year, subdomains included')
  t.match(res.headers, COMMON)
})
