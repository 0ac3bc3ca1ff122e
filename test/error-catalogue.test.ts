// One error catalogue: every code on the wire is in src/core/errors.ts with its status, Fastify's
// FST_* codes and Postgres SQLSTATEs become house codes in the global handler, and the README's
// Errors table says exactly what the catalogue says.
import { readFileSync, readdirSync } from 'node:fs'
import t from 'tap'
import Fastify, { type FastifyError } from 'fastify'
import type { FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import postgres from 'postgres'
import { build, adminSql, appSql, TEST_DATABASE_URL } from './helper.js'
import { ORIGIN, browser, login, register } from './auth-helper.js'
import { ERROR_CATALOGUE, isErrorCode } from '../src/core/errors.js'
import { installErrorHandler, sendWireError, toWireError } from '../src/core/error-handler.js'

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8')

/** the rows of the README's "## Errors" table: code, status, meaning */
function readmeErrorRows (): Array<[string, number, string]> {
  const start = README.indexOf('\n## Errors\n')
  const end = README.indexOf('\n## ', start + 1)
  const section = README.slice(start, end === -1 ? undefined : end)
  return [...section.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \| (.+) \|$/gm)].map(m => [m[1]!, Number(m[2]), m[3]!])
}

t.test('the README Errors table is the catalogue, row for row', async t => {
  const expected = Object.entries(ERROR_CATALOGUE).map(([code, d]) => [code, d.status, d.meaning] as [string, number, string])
  const rows = readmeErrorRows()
  t.same(rows, expected, 'README "## Errors" must list every code as | `CODE` | status | meaning |, in catalogue order:\n' +
    expected.map(([c, s, m]) => `| \`${c}\` | ${s} | ${m} |`).join('\n'))
})

t.test('every code thrown in src is a catalogue code, and every catalogue code is answered somewhere', async t => {
  const files = readdirSync(new URL('../src/', import.meta.url), { recursive: true, encoding: 'utf8' }).filter(f => f.endsWith('.ts'))
  const thrown = new Set<string>()
  for (const f of files) {
    const text = readFileSync(new URL(`../src/${f}`, import.meta.url), 'utf8')
    for (const m of text.matchAll(/\bErrors\.([A-Z_]+)\b/g)) thrown.add(m[1]!)
    // the handler names the codes it maps to as string literals
    if (f.endsWith('error-handler.ts')) for (const m of text.matchAll(/(?:wire\(|return |: |\? )'([A-Z][A-Z_]+)'/g)) thrown.add(m[1]!)
  }
  t.ok(thrown.size > 20, `found ${thrown.size} codes in src`)
  for (const code of thrown) t.ok(isErrorCode(code), `${code} is in the catalogue`)
  for (const code of Object.keys(ERROR_CATALOGUE)) t.ok(thrown.has(code), `${code} is answered by some code path`)
})

// a bare app with only the error handler: what Fastify itself raises, and what Postgres raises
async function bareApp (t: Test): Promise<FastifyInstance> {
  const sql = appSql(t, 1)
  const app = Fastify({ bodyLimit: 1024, frameworkErrors: sendWireError })
  t.teardown(() => app.close())
  installErrorHandler(app)
  app.post('/echo', async request => request.body)
  app.get('/cast/:value', async request => sql`select ${(request.params as { value: string }).value}::uuid as id`)
  await app.ready()
  return app
}

t.test('Fastify\'s own client errors answer house codes, never FST_*', async t => {
  const app = await bareApp(t)
  const cases = [
    { name: 'oversize body', status: 413, code: 'BODY_TOO_LARGE', req: { payload: JSON.stringify({ a: 'x'.repeat(2000) }), headers: { 'content-type': 'application/json' } } },
    { name: 'malformed JSON', status: 400, code: 'INVALID_JSON', req: { payload: '{"a":', headers: { 'content-type': 'application/json' } } },
    { name: 'empty JSON body', status: 400, code: 'INVALID_JSON', req: { payload: '', headers: { 'content-type': 'application/json' } } },
    { name: 'no content type', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', req: { payload: 'a=1', headers: { 'content-type': '' } } },
    { name: 'form encoded', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', req: { payload: 'a=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } } }
  ]
  for (const c of cases) {
    const res = await app.inject({ method: 'POST', url: '/echo', ...c.req })
    t.equal(res.statusCode, c.status, c.name)
    t.equal(res.json().code, c.code, c.name)
    t.notMatch(res.body, /FST_/, c.name)
  }
  const res = await app.inject({ method: 'POST', url: '/echo', payload: 'a=1', headers: { 'content-type': 'text/xml' } })
  t.match(res.json().message, /Content-Type: application\/json/, 'the 415 says what to send')
})

t.test('the app: JSON only (text/plain is a 415), bad URL and unknown route in the house shape', async t => {
  const app = await build(t)
  const user = await register(app)
  const plain = await app.inject({ method: 'POST', url: '/api/auth/logout', headers: { ...browser(user.cookie), 'content-type': 'text/plain' }, payload: 'hello' })
  t.equal(plain.statusCode, 415)
  t.equal(plain.json().code, 'UNSUPPORTED_MEDIA_TYPE')
  const badUrl = await app.inject({ method: 'GET', url: '/api/portfolios/%zz', headers: browser(user.cookie) })
  t.equal(badUrl.statusCode, 400)
  t.equal(badUrl.json().code, 'BAD_URL')
  const big = await app.inject({ method: 'POST', url: '/api/portfolios', headers: { ...browser(user.cookie), 'content-type': 'application/json' }, payload: JSON.stringify({ name: 'x'.repeat(70 * 1024) }) })
  t.equal(big.statusCode, 413)
  t.equal(big.json().code, 'BODY_TOO_LARGE')
  const none = await app.inject({ method: 'GET', url: '/api/nowhere' })
  t.equal(none.statusCode, 404)
  t.equal(none.json().code, 'ROUTE_NOT_FOUND')
  t.equal((await app.inject({ method: 'GET', url: '/api/auth/me', headers: browser(user.cookie) })).statusCode, 200, 'the refused logout changed nothing')
})

t.test('Postgres data exceptions are 400 and constraint clashes 409 in the global handler', async t => {
  const app = await bareApp(t)
  const cast = await app.inject('/cast/urn:uuid:6f1c2c9e-9d7a-4c1b-8b1a-2f0b6c3d4e5f')
  t.equal(cast.statusCode, 400, 'a real 22P02 from Postgres')
  t.equal(cast.json().code, 'INVALID_INPUT')
  t.notMatch(cast.body, /uuid|select/i, 'nothing of the query leaves')
  const pg = (code: string) => Object.assign(new Error('x'), { name: 'PostgresError', code }) as unknown as FastifyError
  t.same([toWireError(pg('22P02')).statusCode, toWireError(pg('22P02')).code], [400, 'INVALID_INPUT'])
  t.same([toWireError(pg('22007')).statusCode, toWireError(pg('22007')).code], [400, 'INVALID_INPUT'])
  t.same([toWireError(pg('23505')).statusCode, toWireError(pg('23505')).code], [409, 'CONFLICT'])
  t.same([toWireError(pg('23503')).statusCode, toWireError(pg('23503')).code], [409, 'CONFLICT'])
  t.same([toWireError(pg('23502')).statusCode, toWireError(pg('23502')).code], [400, 'INVALID_INPUT'])
  t.same([toWireError(pg('23514')).statusCode, toWireError(pg('23514')).code], [400, 'INVALID_INPUT'])
  t.same([toWireError(pg('42P01')).statusCode, toWireError(pg('42P01')).code], [500, 'INTERNAL_ERROR'], 'a broken query is still our bug')
  const fst = Object.assign(new Error('x'), { code: 'FST_ERR_SOMETHING_NEW', statusCode: 400 }) as unknown as FastifyError
  t.same([toWireError(fst).statusCode, toWireError(fst).code], [400, 'BAD_REQUEST'], 'an unmapped client error still gets a house code')
  const foreign = Object.assign(new Error('x'), { code: 'E_PLUGIN', statusCode: 502 }) as unknown as FastifyError
  t.same([toWireError(foreign).statusCode, toWireError(foreign).code], [500, 'INTERNAL_ERROR'])
})

t.test('a Postgres that drops us or cannot take us is a 503, never a 500', async t => {
  // real errors from a real server: our own backend terminated (57P01, as a restart or an
  // operator does it) and a database that is not there (3D000)
  const sql = appSql(t, 1)
  const terminated = await sql`select pg_terminate_backend(pg_backend_pid())`.then(() => null, (err: unknown) => err)
  t.match(terminated, { name: 'PostgresError', code: '57P01' })
  const wire = toWireError(terminated as FastifyError)
  t.same([wire.statusCode, wire.code], [503, 'DEPENDENCY_UNAVAILABLE'])
  const url = new URL(TEST_DATABASE_URL)
  url.pathname = '/hallpass_no_such_database'
  const nowhere = postgres(url.toString(), { max: 1, onnotice: () => {} })
  t.teardown(() => nowhere.end({ timeout: 1 }))
  const absent = await nowhere`select 1`.then(() => null, (err: unknown) => err)
  t.match(absent, { name: 'PostgresError', code: '3D000' })
  const wire2 = toWireError(absent as FastifyError)
  t.same([wire2.statusCode, wire2.code], [503, 'DEPENDENCY_UNAVAILABLE'])
})

t.test('GET /api/admin/audit?userId=urn:uuid:… is a 400 VALIDATION_FAILED, not a 500', async t => {
  const app = await build(t)
  const admin = await register(app)
  await adminSql(t)`update users set role = 'admin' where id = ${admin.userId}`
  const { cookie } = await login(app, admin.email)
  const res = await app.inject({ method: 'GET', url: `/api/admin/audit?userId=urn:uuid:${admin.userId}`, headers: browser(cookie) })
  t.equal(res.statusCode, 400)
  t.equal(res.json().code, 'VALIDATION_FAILED')
  t.match(res.json().message, /userId/)
  const ok = await app.inject({ method: 'GET', url: `/api/admin/audit?userId=${admin.userId}`, headers: { cookie, origin: ORIGIN } })
  t.equal(ok.statusCode, 200, 'a plain UUID still works')
})
