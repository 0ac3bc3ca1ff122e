// The portfolio API through HTTP: CRUD of portfolios and holdings, validation, and that
// another user's ids, malformed ids and injection attempts answer 404 or 400, never data.
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { adminSql } from './helper.js'
import { ORIGIN, UA_FIREFOX } from './auth-helper.js'
import { buildWithPortfolio, client, createPortfolio, expectJson, makeUser, makeUsers } from './portfolio-helper.js'

const ISO_MICROS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/

t.test('portfolios: create, read, rename, delete', async t => {
  const app = await buildWithPortfolio(t)
  const c = client(app, await makeUser(t, app))

  const created = expectJson(await c.post('/api/portfolios', { name: 'Retirement', baseCurrency: 'EUR' }), 201)
  t.match(created, { name: 'Retirement', baseCurrency: 'EUR' })
  t.match(created.createdAt, ISO_MICROS)
  const usd = expectJson(await c.post('/api/portfolios', { name: 'Play money' }), 201)
  t.equal(usd.baseCurrency, 'USD', 'USD by default')

  t.same(expectJson(await c.get(`/api/portfolios/${created.id}`), 200), created)
  const list = expectJson(await c.get('/api/portfolios'), 200)
  t.same(list, { items: [created, usd], nextCursor: null }, 'oldest first, no next page')

  const renamed = expectJson(await c.patch(`/api/portfolios/${created.id}`, { name: 'Pension' }), 200)
  t.match(renamed, { id: created.id, name: 'Pension', baseCurrency: 'EUR' })
  t.ok(renamed.updatedAt >= created.updatedAt)

  const del = await c.del(`/api/portfolios/${created.id}`)
  t.equal(del.statusCode, 204)
  t.equal(del.body, '')
  t.equal((await c.get(`/api/portfolios/${created.id}`)).statusCode, 404)
  t.equal((await c.del(`/api/portfolios/${created.id}`)).statusCode, 404, 'a second delete finds nothing')
})

t.test('portfolio input is validated and nothing is written on a 400', async t => {
  const app = await buildWithPortfolio(t)
  const user = await makeUser(t, app)
  const c = client(app, user)
  const p = await createPortfolio(c, 'Keep')
  const bad = [
    {}, { name: '' }, { name: '   ' }, { name: 'x'.repeat(101) }, { name: 'nul\u0000byte' }, { name: 'tab\there' },
    { name: 42 }, { name: 'ok', baseCurrency: 'usd' }, { name: 'ok', baseCurrency: 'EURO' }
  ]
  for (const body of bad) {
    const res = await c.post('/api/portfolios', body)
    t.equal(res.statusCode, 400, `POST ${JSON.stringify(body)}`)
    t.equal(res.json().code, 'VALIDATION_FAILED')
  }
  for (const body of [{}, { unknown: 'x' }, { name: '' }]) {
    const res = await c.patch(`/api/portfolios/${p.id}`, body)
    t.equal(res.statusCode, 400, `PATCH ${JSON.stringify(body)}`)
  }
  const rows = await adminSql(t)`select name from portfolios where user_id = ${user.userId}`
  t.same(rows.map(r => r.name), ['Keep'], 'only the valid portfolio exists, unchanged')
})

t.test('holdings: add, list, correct, remove; symbols normalised; duplicates are 409', async t => {
  const app = await buildWithPortfolio(t)
  const c = client(app, await makeUser(t, app))
  const p = await createPortfolio(c, 'Stocks')

  const aapl = expectJson(await c.post(`/api/portfolios/${p.id}/holdings`, { symbol: ' aapl ', quantity: '10', averageCost: '150.25' }), 201)
  t.match(aapl, { portfolioId: p.id, symbol: 'AAPL', quantity: '10', averageCost: '150.25' })
  const brk = expectJson(await c.post(`/api/portfolios/${p.id}/holdings`, { symbol: 'brk.b' }), 201)
  t.match(brk, { symbol: 'BRK.B', quantity: '0', averageCost: '0' }, 'quantity and cost default to 0')

  const dup = await c.post(`/api/portfolios/${p.id}/holdings`, { symbol: 'AAPL', quantity: '1' })
  t.equal(dup.statusCode, 409)
  t.equal(dup.json().code, 'HOLDING_EXISTS')

  t.same(expectJson(await c.get(`/api/portfolios/${p.id}/holdings`), 200), { items: [aapl, brk], nextCursor: null }, 'by symbol')

  const fixed = expectJson(await c.patch(`/api/holdings/${aapl.id}`, { quantity: '12.5', averageCost: '0.00000001' }), 200)
  t.match(fixed, { id: aapl.id, quantity: '12.5', averageCost: '0.00000001' })
  t.equal((await c.patch(`/api/holdings/${aapl.id}`, {})).statusCode, 400, 'an empty PATCH is refused')

  t.equal((await c.del(`/api/holdings/${brk.id}`)).statusCode, 204)
  t.equal((await c.del(`/api/holdings/${brk.id}`)).statusCode, 404)
  t.same(expectJson(await c.get(`/api/portfolios/${p.id}/holdings`), 200).items.map((h: { symbol: string }) => h.symbol), ['AAPL'])

  const empty = await createPortfolio(c, 'Empty')
  t.same(expectJson(await c.get(`/api/portfolios/${empty.id}/holdings`), 200), { items: [], nextCursor: null }, 'an empty portfolio is 200 with no items')

  t.equal((await c.del(`/api/portfolios/${p.id}`)).statusCode, 204)
  t.equal((await c.patch(`/api/holdings/${aapl.id}`, { quantity: '1' })).statusCode, 404, 'holdings went with their portfolio')
})

t.test('decimals and symbols are validated exactly', async t => {
  const app = await buildWithPortfolio(t)
  const c = client(app, await makeUser(t, app))
  const p = await createPortfolio(c, 'Validation')
  const url = `/api/portfolios/${p.id}/holdings`
  for (const quantity of ['-1', '1e3', '1.123456789', '123456789012345678901', '.5', '5.', ' 5', '0x10', 'NaN', 'Infinity', '1,5', 5]) {
    t.equal((await c.post(url, { symbol: 'X', quantity })).statusCode, 400, `quantity ${JSON.stringify(quantity)}`)
  }
  for (const symbol of ['', '1ABC', 'A B', 'ABCDEFGHIJKLMNOP', 'ß', 'A;DROP', '$', 'Ä']) {
    t.equal((await c.post(url, { symbol })).statusCode, 400, `symbol ${JSON.stringify(symbol)}`)
  }
  const max = expectJson(await c.post(url, { symbol: 'MAX', quantity: '99999999999999999999.99999999' }), 201)
  t.equal(max.quantity, '99999999999999999999.99999999', 'the largest numeric(28, 8) round-trips exactly')
  const trade = url.replace('/holdings', '/transactions')
  for (const body of [
    { side: 'buy', symbol: 'X', quantity: '0', price: '1' },
    { side: 'buy', symbol: 'X', quantity: '0.00000000', price: '1' },
    { side: 'hold', symbol: 'X', quantity: '1', price: '1' },
    { side: 'buy', symbol: 'X', quantity: '1' },
    { side: 'buy', symbol: 'X', quantity: '1', price: '-1' },
    { side: 'buy', symbol: 'X', quantity: '1', price: '1', fee: '-0.5' }
  ]) {
    t.equal((await c.post(trade, body)).statusCode, 400, JSON.stringify(body))
  }
  const overflow = await c.post(trade, { side: 'buy', symbol: 'MAX', quantity: '1', price: '1' })
  t.equal(overflow.statusCode, 422, 'a buy that would overflow numeric(28, 8) is refused')
  t.equal(overflow.json().code, 'VALUE_OUT_OF_RANGE')
  t.notMatch(overflow.body, /numeric|overflow|field/i, 'no database detail leaves')
})

t.test('another user\'s ids are 404 like missing ones; their rows stay untouched', async t => {
  const app = await buildWithPortfolio(t)
  const [alice, mallory] = await makeUsers(t, app, 2)
  const a = client(app, alice!)
  const m = client(app, mallory!)
  const p = await createPortfolio(a, 'Alice only')
  const h = expectJson(await a.post(`/api/portfolios/${p.id}/holdings`, { symbol: 'ALC', quantity: '5', averageCost: '10' }), 201)
  expectJson(await a.post(`/api/portfolios/${p.id}/transactions`, { side: 'buy', symbol: 'ALC', quantity: '1', price: '10' }), 201)

  const attempts = [
    () => m.get(`/api/portfolios/${p.id}`),
    () => m.patch(`/api/portfolios/${p.id}`, { name: 'pwned' }),
    () => m.del(`/api/portfolios/${p.id}`),
    () => m.get(`/api/portfolios/${p.id}/holdings`),
    () => m.post(`/api/portfolios/${p.id}/holdings`, { symbol: 'EVIL', quantity: '1' }),
    () => m.get(`/api/portfolios/${p.id}/transactions`),
    () => m.post(`/api/portfolios/${p.id}/transactions`, { side: 'buy', symbol: 'ALC', quantity: '1', price: '1' }),
    () => m.post(`/api/portfolios/${p.id}/transactions`, { side: 'sell', symbol: 'ALC', quantity: '1', price: '1' }),
    () => m.patch(`/api/holdings/${h.id}`, { quantity: '0' }),
    () => m.del(`/api/holdings/${h.id}`)
  ]
  const missing = randomUUID()
  for (const attempt of attempts) {
    const res = await attempt()
    t.equal(res.statusCode, 404, `${res.raw.req.method} ${res.raw.req.url}`)
    t.notMatch(res.body, /Alice|ALC|"quantity"/, 'no data in the body')
  }
  const other = await m.get(`/api/portfolios/${p.id}`)
  const none = await m.get(`/api/portfolios/${missing}`)
  t.same(other.json(), none.json(), 'indistinguishable from an id that does not exist')

  t.same(expectJson(await m.get('/api/portfolios'), 200), { items: [], nextCursor: null }, 'mallory lists nothing of alice')
  const sql = adminSql(t)
  t.same(await sql`select name from portfolios where id = ${p.id}`, [{ name: 'Alice only' }])
  t.same(await sql`select symbol, quantity::text from holdings where portfolio_id = ${p.id}`, [{ symbol: 'ALC', quantity: '6.00000000' }])
  t.equal((await sql`select 1 from transactions where portfolio_id = ${p.id}`).length, 1)
  t.equal((await sql`select 1 from portfolios where user_id = ${mallory!.userId}`).length, 0)
})

// Fastify answers 414 to a path parameter over 100 characters, before any handler
t.test('crafted ids are 400, 404 or 414, never data and never 500', async t => {
  const app = await buildWithPortfolio(t)
  const [alice, mallory] = await makeUsers(t, app, 2)
  const p = await createPortfolio(client(app, alice!), 'Target')
  const m = client(app, mallory!)
  const crafted = [
    "' or 1=1 --", `${p.id}' or '1'='1`, `${p.id} or 1=1`, 'x'.repeat(5000), `urn:uuid:${p.id}`, `{${p.id}}`,
    p.id.replace(/-/g, ''), '00000000-0000-0000-0000-00000000000g', `${p.id}%00`, '%27%20or%201%3D1', '..%2F..%2Fadmin',
    `${p.id},${randomUUID()}`, '*', '%', 'null', 'undefined', '0'
  ]
  const seen = new Set<number>()
  for (const raw of crafted) {
    const id = /%/.test(raw) ? raw : encodeURIComponent(raw)
    for (const res of [
      await m.get(`/api/portfolios/${id}`), await m.get(`/api/portfolios/${id}/holdings`),
      await m.get(`/api/portfolios/${id}/transactions`), await m.patch(`/api/portfolios/${id}`, { name: 'x' }),
      await m.del(`/api/holdings/${id}`), await m.patch(`/api/holdings/${id}`, { quantity: '1' })
    ]) {
      seen.add(res.statusCode)
      t.ok([400, 404, 414].includes(res.statusCode), `${res.raw.req.method} ${(res.raw.req.url ?? '').slice(0, 80)} → ${res.statusCode}`)
      t.notMatch(res.body, /Target|syntax|uuid:|invalid input/i)
    }
  }
  t.ok(seen.has(400), 'malformed ids are validation errors')
  for (const cursor of ["' or 1=1 --", 'x'.repeat(5000), Buffer.from(`["p","' or 1=1 --","${p.id}"]`).toString('base64url')]) {
    const res = await m.get(`/api/portfolios?cursor=${encodeURIComponent(cursor)}`)
    t.equal(res.statusCode, 400, `cursor ${cursor.slice(0, 40)}`)
  }
  const longName = await m.post('/api/portfolios', { name: 'x'.repeat(60_000) })
  t.equal(longName.statusCode, 400, 'a 60 kB name is a validation error')
})

t.test('authentication and the Origin check come first', async t => {
  const app = await buildWithPortfolio(t)
  const user = await makeUser(t, app)
  const p = await createPortfolio(client(app, user), 'Mine')
  for (const [method, url] of [['GET', '/api/portfolios'], ['POST', '/api/portfolios'], ['GET', `/api/portfolios/${p.id}`], ['DELETE', `/api/holdings/${randomUUID()}`]] as const) {
    const res = await app.inject({ method, url, headers: { origin: ORIGIN }, ...(method === 'POST' ? { payload: { name: 'x' } } : {}) })
    t.equal(res.statusCode, 401, `${method} ${url} without a session`)
    t.equal(res.json().code, 'AUTH_REQUIRED')
  }
  const foreign = await app.inject({ method: 'DELETE', url: `/api/portfolios/${p.id}`, headers: { cookie: user.cookie, origin: 'https://evil.example', 'user-agent': UA_FIREFOX } })
  t.equal(foreign.statusCode, 403, 'a cross-site DELETE with the cookie is refused')
  t.equal((await client(app, user).get(`/api/portfolios/${p.id}`)).statusCode, 200, 'and the portfolio is still there')
})

t.test('an admin\'s own portfolio routes show only their own rows', async t => {
  const app = await buildWithPortfolio(t)
  const admin = await makeUser(t, app, { role: 'admin', tag: 'pf-admin' })
  const user = await makeUser(t, app)
  const theirs = await createPortfolio(client(app, user), 'Not the admin\'s')
  const a = client(app, admin)
  const mine = await createPortfolio(a, 'Admin\'s own')
  t.same(expectJson(await a.get('/api/portfolios'), 200).items.map((p: { id: string }) => p.id), [mine.id])
  t.equal((await a.get(`/api/portfolios/${theirs.id}`)).statusCode, 404, 'the admin policy is not used on these routes')
})
