// Isolation under load: 100 users read and write at once through the HTTP API on a pool of 4
// connections, and no response ever holds another user's row; afterwards no connection
// carries a user. The app role with no context sees nothing at all.
import t from 'tap'
import { randomUUID } from 'node:crypto'
import type { LightMyRequestResponse } from 'fastify'
import { adminSql, appSql } from './helper.js'
import { buildWithPortfolio, client, expectJson, makeUser, makeUsers } from './portfolio-helper.js'

const USERS = 100

interface Owned { userId: string; prefix: string; portfolios: Set<string> }

t.test('100 concurrent users on 4 connections never see each other\'s rows', async t => {
  const app = await buildWithPortfolio(t, { PG_POOL_MAX: '4' })
  const users = await makeUsers(t, app, USERS, { tag: 'iso' })
  const owned: Owned[] = users.map((u, i) => ({ userId: u.userId, prefix: `Q${String(i).padStart(3, '0')}S`, portfolios: new Set() }))
  const problems: string[] = []
  let checkedItems = 0

  // every item of every response must be the caller's: its portfolio, its symbol prefix, its name
  const check = (me: Owned, what: string, res: LightMyRequestResponse): void => {
    const body = res.json()
    const items: Array<Record<string, unknown>> = body.items ?? [body.transaction, body.holding].filter(Boolean)
    if (!body.items && !body.transaction) items.push(body)
    for (const item of items) {
      checkedItems++
      const portfolioId = (item.portfolioId ?? item.id) as string
      if (!me.portfolios.has(portfolioId)) problems.push(`${what}: portfolio ${portfolioId} is not ${me.userId}'s`)
      if (typeof item.symbol === 'string' && !item.symbol.startsWith(me.prefix)) problems.push(`${what}: symbol ${item.symbol} is not ${me.prefix}*`)
      if (typeof item.name === 'string' && !item.name.includes(me.userId)) problems.push(`${what}: name ${item.name} is not ${me.userId}'s`)
    }
  }

  const session = async (i: number): Promise<void> => {
    const me = owned[i]!
    const c = client(app, users[i]!)
    const ok = (status: number, what: string) => (res: LightMyRequestResponse): LightMyRequestResponse => {
      if (res.statusCode !== status) problems.push(`${what}: ${res.statusCode} ${res.body}`)
      return res
    }
    for (let k = 0; k < 2; k++) {
      const p = expectJson(await c.post('/api/portfolios', { name: `iso ${me.userId} #${k}` }), 201)
      me.portfolios.add(p.id)
    }
    const [p0, p1] = [...me.portfolios] as [string, string]
    check(me, 'list', ok(200, 'list')(await c.get('/api/portfolios')))
    check(me, 'holding', ok(201, 'holding')(await c.post(`/api/portfolios/${p0}/holdings`, { symbol: `${me.prefix}A`, quantity: '3', averageCost: '1.5' })))
    const [buy, list, other] = await Promise.all([
      c.post(`/api/portfolios/${p0}/transactions`, { side: 'buy', symbol: `${me.prefix}B`, quantity: '2', price: '10' }),
      c.get(`/api/portfolios/${p0}/holdings`),
      c.get(`/api/portfolios/${p1}`)
    ])
    check(me, 'buy', ok(201, 'buy')(buy))
    check(me, 'holdings', ok(200, 'holdings')(list))
    check(me, 'get', ok(200, 'get')(other))
    // someone else's portfolio (whoever got that far), then a failed unit of work
    const neighbour = owned[(i + 1) % USERS]!.portfolios.values().next().value ?? randomUUID()
    ok(404, 'neighbour get')(await c.get(`/api/portfolios/${neighbour}`))
    ok(404, 'neighbour holdings')(await c.get(`/api/portfolios/${neighbour}/holdings`))
    ok(404, 'neighbour buy')(await c.post(`/api/portfolios/${neighbour}/transactions`, { side: 'buy', symbol: `${me.prefix}X`, quantity: '1', price: '1' }))
    ok(422, 'oversell')(await c.post(`/api/portfolios/${p0}/transactions`, { side: 'sell', symbol: `${me.prefix}B`, quantity: '99', price: '1' }))
    const [sell, rename, trades, all] = await Promise.all([
      c.post(`/api/portfolios/${p0}/transactions`, { side: 'sell', symbol: `${me.prefix}B`, quantity: '0.5', price: '12' }),
      c.patch(`/api/portfolios/${p1}`, { name: `iso ${me.userId} renamed` }),
      c.get(`/api/portfolios/${p0}/transactions?limit=1`),
      c.get('/api/portfolios?limit=100')
    ])
    check(me, 'sell', ok(201, 'sell')(sell))
    check(me, 'rename', ok(200, 'rename')(rename))
    check(me, 'trades', ok(200, 'trades')(trades))
    check(me, 'all', ok(200, 'all')(all))
    if (all.json().items.length !== 2) problems.push(`${me.userId} lists ${all.json().items.length} portfolios`)
  }

  await Promise.all(owned.map((_, i) => session(i)))
  t.same(problems, [], 'every status as expected, every item the caller\'s own')
  t.ok(checkedItems > USERS * 10, `${checkedItems} items checked`)

  // each of the pool's connections, held at once: none carries a user or sees a row
  const reserved = await Promise.all(Array.from({ length: 4 }, () => app.db.sql.reserve()))
  try {
    const pids = new Set<number>()
    for (const conn of reserved) {
      const [row] = await conn`select pg_backend_pid() as pid, coalesce(current_setting('app.user_id', true), '') as uid,
        coalesce(current_setting('app.role', true), '') as role, (select count(*)::int from portfolios) as n`
      pids.add(row!.pid)
      t.same({ uid: row!.uid, role: row!.role, n: row!.n }, { uid: '', role: '', n: 0 }, `connection ${row!.pid} is clean`)
    }
    t.equal(pids.size, 4, 'all four connections of the pool were checked')
  } finally {
    for (const conn of reserved) conn.release()
  }

  const [counts] = await adminSql(t)`select count(*)::int as n from portfolios where user_id in ${adminSql(t)(owned.map(o => o.userId))}`
  t.equal(counts!.n, USERS * 2, 'and the writes all landed')
})

t.test('the app role with no context sees and changes nothing', async t => {
  const app = await buildWithPortfolio(t)
  const user = await makeUser(t, app)
  const c = client(app, user)
  const p = expectJson(await c.post('/api/portfolios', { name: 'raw' }), 201)
  expectJson(await c.post(`/api/portfolios/${p.id}/transactions`, { side: 'buy', symbol: 'RAW', quantity: '1', price: '1' }), 201)

  const sql = appSql(t)
  for (const table of ['portfolios', 'holdings', 'transactions']) {
    const [row] = await sql`select count(*)::int as n from ${sql(table)}`
    t.equal(row!.n, 0, `select from ${table}: zero rows`)
    const [mine] = await sql`select count(*)::int as n from ${sql(table)} where user_id = ${user.userId}`
    t.equal(mine!.n, 0, `${table} filtered by the owner's id: still zero`)
    t.equal((await sql`update ${sql(table)} set user_id = user_id where user_id = ${user.userId}`).count, 0, `update ${table}: nothing`)
    t.equal((await sql`delete from ${sql(table)} where user_id = ${user.userId}`).count, 0, `delete ${table}: nothing`)
  }
  const [owner] = await adminSql(t)`select (select count(*)::int from portfolios where user_id = ${user.userId}) as p,
    (select count(*)::int from holdings where user_id = ${user.userId}) as h, (select count(*)::int from transactions where user_id = ${user.userId}) as x`
  t.same(owner, { p: 1, h: 1, x: 1 }, 'the rows are there for the schema owner')
})

t.test('on a one-connection pool, a failed unit of work leaves no user behind', async t => {
  const app = await buildWithPortfolio(t, { PG_POOL_MAX: '1' })
  const [alice, bob] = await makeUsers(t, app, 2)
  const a = client(app, alice!)
  const b = client(app, bob!)
  const pa = expectJson(await a.post('/api/portfolios', { name: 'alice' }), 201)
  expectJson(await a.post(`/api/portfolios/${pa.id}/transactions`, { side: 'buy', symbol: 'MAXI', quantity: '99999999999999999999', price: '1' }), 201)
  const clean = async (what: string): Promise<void> => {
    const [row] = await app.db.sql`select coalesce(current_setting('app.user_id', true), '') as uid, (select count(*)::int from portfolios) as n`
    t.same(row, { uid: '', n: 0 }, what)
  }

  t.equal((await a.post(`/api/portfolios/${pa.id}/transactions`, { side: 'sell', symbol: 'MAXI', quantity: '99999999999999999999.00000001', price: '1' })).statusCode, 422)
  await clean('after an app error thrown inside asUser')
  t.equal((await a.post(`/api/portfolios/${pa.id}/transactions`, { side: 'buy', symbol: 'MAXI', quantity: '1', price: '1' })).statusCode, 422)
  await clean('after a Postgres error (numeric overflow) inside asUser')
  t.equal((await a.get(`/api/portfolios/${pa.id}`)).statusCode, 200)
  await clean('after a single-statement read')

  // bob's requests reuse alice's connection and see only bob
  t.same(expectJson(await b.get('/api/portfolios'), 200), { items: [], nextCursor: null })
  t.equal((await b.get(`/api/portfolios/${pa.id}/holdings`)).statusCode, 404)
  const [holding] = await adminSql(t)`select quantity::text from holdings where portfolio_id = ${pa.id}`
  t.equal(holding!.quantity, '99999999999999999999.00000000', 'the failed trades changed nothing')
})
