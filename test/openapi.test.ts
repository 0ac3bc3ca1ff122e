// The OpenAPI document is served from the built app and lists the routes registered after
// the plugin, with both security schemes; the docs routes themselves stay out of it.
import t from 'tap'
import { build } from './helper.js'

t.test('GET /docs/json is an OpenAPI 3 document of the app\'s routes', async t => {
  const app = await build(t)
  const res = await app.inject('/docs/json')
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json/)
  const doc = res.json()
  t.match(doc.openapi, /^3\./)
  t.equal(doc.info.title, 'hallpass')
  t.match(doc.info.description, /__Host-sid/)
  t.ok(doc.paths['/api/health'], 'a route registered after the plugin is in the document')
  t.ok(doc.paths['/api/health/ready'])
  t.same(doc.paths['/api/health'].get.tags, ['ops'])
  t.ok(doc.paths['/api/health'].get.responses['200'], 'response schemas are documented')
  t.notOk(doc.paths['/docs/json'], 'the docs routes are hidden')
  t.notOk(doc.paths['/docs'])
  t.match(doc.components.securitySchemes, {
    cookieAuth: { type: 'apiKey', in: 'cookie', name: 'sid' },
    bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }
  })
  t.same(doc.tags.map((tag: { name: string }) => tag.name), ['auth', 'sessions', 'admin', 'portfolio', 'ops'])
})

t.test('the cookie scheme names the cookie the server sets', async t => {
  const app = await build(t, { COOKIE_SECURE: 'true' })
  const doc = (await app.inject('/docs/json')).json()
  t.equal(doc.components.securitySchemes.cookieAuth.name, '__Host-sid')
})

t.test('GET /docs is a readable reference (Swagger UI) from local assets; DOCS_ENABLED=false turns both off', async t => {
  const app = await build(t)
  const res = await app.inject('/docs/')
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/html/)
  t.match(res.body, /swagger-ui/)
  t.notMatch(res.body, /https?:\/\//, 'no asset from another origin')
  const csp = String(res.headers['content-security-policy'])
  t.match(csp, /script-src 'self';/)
  t.match(csp, /frame-ancestors 'none'/)

  const off = await build(t, { DOCS_ENABLED: 'false' })
  t.equal((await off.inject('/docs/')).statusCode, 404)
  t.equal((await off.inject('/docs/json')).statusCode, 404)
  t.equal((await off.inject('/docs/json')).json().code, 'ROUTE_NOT_FOUND')
})

t.test('the document has a servers entry, and every operation its security, held to what the server does', async t => {
  const app = await build(t)
  const doc = (await app.inject('/docs/json')).json() as { servers: Array<{ url: string }>, paths: Record<string, Record<string, { security?: Array<Record<string, string[]>> }>> }
  t.same(doc.servers.map(s => s.url), ['/'])
  let open = 0
  let closed = 0
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      t.ok(Array.isArray(op.security), `${method.toUpperCase()} ${path} declares its security`)
      // a concrete URL: path parameters filled with a well-formed UUID / session id
      const url = path.replace(/\{sessionId\}/g, 'AAAAAAAAAAAAAAAAAAAAAA').replace(/\{id\}/g, '00000000-0000-4000-8000-000000000000')
      const res = await app.inject({ method: method.toUpperCase() as 'GET', url, headers: { origin: 'http://localhost:3000' } })
      if (op.security?.length) {
        closed++
        t.same(op.security, [{ cookieAuth: [] }, { bearerAuth: [] }])
        t.equal(res.statusCode, 401, `${method.toUpperCase()} ${path} needs a credential (401 without one)`)
      } else {
        open++
        t.not(res.statusCode, 401, `${method.toUpperCase()} ${path} is documented as open and answers without a credential`)
      }
    }
  }
  t.ok(open >= 5 && closed >= 20, `both kinds exist (${open} open, ${closed} signed in)`)
})
