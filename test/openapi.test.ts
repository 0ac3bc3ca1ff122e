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

t.test('GET /docs points at the JSON document', async t => {
  const app = await build(t)
  const res = await app.inject('/docs')
  t.equal(res.statusCode, 302)
  t.equal(res.headers.location, '/docs/json')
})
