// Walks every route of the OpenAPI document with malformed ids, malformed queries, malformed
// JSON, wrong content types and oversize bodies, as an admin with a valid session (so no guard
// hides a route): never a 500, always a 4xx with a code of the catalogue.
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { build, adminSql } from './helper.js'
import { browser, login, register } from './auth-helper.js'
import { isErrorCode } from '../src/core/errors.js'

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
interface Operation { parameters?: Array<{ in: string; name: string }>; requestBody?: unknown }

const UUID = randomUUID()
const MALFORMED_IDS = [
  'not-a-uuid', `urn:uuid:${UUID}`, `{${UUID}}`, UUID.slice(0, 35) + 'g', UUID + '0', ' ' + UUID,
  "1' or '1'='1", '%zz', '%00', 'x'.repeat(300), '-1', '0'
]
const MALFORMED_QUERIES = [
  'limit=abc', 'limit=0', 'limit=100000', 'limit=1.5', 'cursor=!!!', 'cursor=' + 'A'.repeat(600),
  'cursor=eyJ4IjoxfQ', `userId=urn:uuid:${UUID}`, 'userId=not-a-uuid', 'type=lower', 'type=' + 'A'.repeat(100), 'unknown=1&limit=-5'
]
const json = { 'content-type': 'application/json' }
// refused before any handler runs, so safe to send to every route, logout included
const UNPARSABLE_BODIES: Array<[string, Record<string, string>, string]> = [
  ['malformed JSON', json, '{"name":'],
  ['empty JSON body', json, ''],
  ['JSON with __proto__', json, '{"__proto__":{"admin":true}}'],
  ['text/plain', { 'content-type': 'text/plain' }, 'name=x'],
  ['form encoded', { 'content-type': 'application/x-www-form-urlencoded' }, 'name=x'],
  ['xml', { 'content-type': 'application/xml' }, '<a/>'],
  ['no content type', { 'content-type': '' }, '{"name":"x"}'],
  ['oversize JSON', json, JSON.stringify({ name: 'x'.repeat(70 * 1024) })],
  ['bad content-length', { ...json, 'content-length': '5' }, '{"name":"x"}']
]
// parsable but of the wrong shape: only for routes that declare a body
const WRONG_SHAPES = ['null', '[]', '"text"', '42', '{"email":["a@b.c"],"password":{}}', '{"name":"\\u0000"}', '{"symbol":"ß","quantity":"1e400"}']

t.test('every route of the OpenAPI document refuses malformed input with a house 4xx', async t => {
  const app = await build(t, { RATE_LIMIT_LOGIN: '100000/15m', RATE_LIMIT_REFRESH: '100000/15m', RATE_LIMIT_LOGOUT: '100000/15m' })
  const admin = await register(app)
  await adminSql(t)`update users set role = 'admin' where id = ${admin.userId}`
  const { cookie } = await login(app, admin.email)
  const headers = browser(cookie)

  const doc = (await app.inject('/docs/json')).json() as { paths: Record<string, Record<string, Operation>> }
  const routes = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([m, op]) => ({ path, method: m.toUpperCase() as Method, op })))
  t.ok(routes.length >= 30, `the document lists ${routes.length} operations`)

  const failures: string[] = []
  let sent = 0
  const check = async (label: string, req: { method: Method; url: string; headers?: Record<string, string>; payload?: string }) => {
    sent++
    const res = await app.inject({ ...req, headers: { ...headers, ...req.headers } })
    let code: unknown
    try { code = res.json().code } catch { code = undefined }
    if (res.statusCode === 500 || res.statusCode < 400 || res.statusCode > 499 || !isErrorCode(code)) {
      failures.push(`${label}: ${req.method} ${req.url} → ${res.statusCode} ${res.body.slice(0, 160)}`)
    }
  }

  for (const { path, method, op } of routes) {
    const params = (op.parameters ?? []).filter(p => p.in === 'path').map(p => p.name)
    const queries = (op.parameters ?? []).filter(p => p.in === 'query')
    // a well-formed id where the case is about something else (a random one: nothing is found)
    const validUrl = path.replace(/\{(\w+)\}/g, () => path.startsWith('/api/auth/sessions') ? 'A'.repeat(22) : randomUUID())
    const body = method === 'GET' || method === 'DELETE' ? {} : { headers: json, payload: '{}' }

    for (const id of params.length ? MALFORMED_IDS : []) {
      await check(`id ${JSON.stringify(id.slice(0, 20))}`, { method, url: path.replace(/\{(\w+)\}/g, id), ...body })
    }
    for (const q of queries.length ? MALFORMED_QUERIES : []) {
      const key = q.split('=')[0]!
      if (key !== 'unknown' && !queries.some(p => p.name === key)) continue
      await check(`query ${q.slice(0, 30)}`, { method, url: `${validUrl}?${q}` })
    }
    if (method === 'GET') continue
    for (const [label, h, payload] of UNPARSABLE_BODIES) {
      await check(label, { method, url: validUrl, headers: h, payload })
    }
    for (const payload of op.requestBody ? WRONG_SHAPES : []) {
      await check(`body ${payload.slice(0, 30)}`, { method, url: validUrl, headers: json, payload })
    }
  }

  t.ok(sent > 300, `${sent} malformed requests sent`)
  t.same(failures, [], 'every malformed request answered a 4xx with a catalogue code')
  t.equal((await app.inject({ method: 'GET', url: '/api/auth/me', headers })).statusCode, 200, 'the admin session survived the walk')
})
