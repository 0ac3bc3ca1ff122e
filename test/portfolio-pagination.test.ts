// Keyset pagination with opaque cursors: walking the pages returns every row once, in order,
// also when rows share a timestamp; limits are bounded and a bad cursor is a 400.
import t from 'tap'
import { adminSql } from './helper.js'
import { buildWithPortfolio, client, createPortfolio, expectJson, makeUser, type Client } from './portfolio-helper.js'

interface Page<T> { items: T[]; nextCursor: string | null }

async function walk<T> (c: Client, url: string, limit: number): Promise<{ items: T[]; pages: number[] }> {
  const items: T[] = []
  const pages: number[] = []
  let cursor: string | null = null
  do {
    const sep = url.includes('?') ? '&' : '?'
    const page: Page<T> = expectJson(await c.get(`${url}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`), 200)
    items.push(...page.items)
    pages.push(page.items.length)
    cursor = page.nextCursor
    if (pages.length > 100) throw new Error('the cursor does not advance')
  } while (cursor)
  return { items, pages }
}

t.test('portfolios: every row once, oldest first, ties broken by id', async t => {
  const app = await buildWithPortfolio(t)
  const user = await makeUser(t, app)
  const c = client(app, user)
  const sql = adminSql(t)
  // twelve rows in one statement share created_at; eight more one by one
  await sql`insert into portfolios (user_id, name) select ${user.userId}, 'tie ' || g from generate_series(1, 12) g`
  for (let i = 0; i < 8; i++) await createPortfolio(c, `later ${i}`)
  const expected = (await sql`select id from portfolios where user_id = ${user.userId} order by created_at, id`).map(r => r.id)
  t.equal(expected.length, 20)

  for (const limit of [1, 3, 7, 20, 100]) {
    const { items, pages } = await walk<{ id: string }>(c, '/api/portfolios', limit)
    t.same(items.map(p => p.id), expected, `limit ${limit}: all rows, in order, once`)
    t.equal(pages.length, Math.ceil(20 / limit), `limit ${limit}: ${pages.join('+')}`)
  }
  const first = expectJson(await c.get('/api/portfolios'), 200)
  t.equal(first.items.length, 20, 'the default limit (50) holds them all')
  t.equal(first.nextCursor, null)
})

t.test('holdings by symbol and transactions newest first, page by page', async t => {
  const app = await buildWithPortfolio(t)
  const user = await makeUser(t, app)
  const c = client(app, user)
  const sql = adminSql(t)
  const p = await createPortfolio(c, 'Many')

  const symbols = Array.from({ length: 57 }, (_, i) => `S${String(i).padStart(3, '0')}`).reverse()
  await sql`insert into holdings (user_id, portfolio_id, symbol, quantity) select ${user.userId}, ${p.id}, s, 1 from unnest(${symbols}::text[]) s`
  const holdings = await walk<{ symbol: string }>(c, `/api/portfolios/${p.id}/holdings`, 10)
  t.same(holdings.items.map(h => h.symbol), [...symbols].sort(), 'every symbol once, in order')
  t.same(holdings.pages, [10, 10, 10, 10, 10, 7])
  const byDefault = expectJson(await c.get(`/api/portfolios/${p.id}/holdings`), 200)
  t.equal(byDefault.items.length, 50, 'default limit 50')
  t.type(byDefault.nextCursor, 'string')

  // trades: 30 sharing one executed_at, then 5 through the API
  await sql`insert into transactions (user_id, portfolio_id, symbol, side, quantity, price, executed_at)
    select ${user.userId}, ${p.id}, 'S000', 'buy', g, 1, '2024-01-02T03:04:05.123456Z' from generate_series(1, 30) g`
  for (let i = 0; i < 5; i++) expectJson(await c.post(`/api/portfolios/${p.id}/transactions`, { side: 'buy', symbol: 'S001', quantity: '1', price: '2' }), 201)
  const expected = (await sql`select id from transactions where portfolio_id = ${p.id} order by executed_at desc, id desc`).map(r => r.id)
  for (const limit of [4, 35, 100]) {
    const trades = await walk<{ id: string; executedAt: string }>(c, `/api/portfolios/${p.id}/transactions`, limit)
    t.same(trades.items.map(x => x.id), expected, `limit ${limit}: every trade once, newest first`)
  }
  const old = await walk<{ executedAt: string }>(c, `/api/portfolios/${p.id}/transactions`, 100)
  t.equal(old.items.at(-1)!.executedAt, '2024-01-02T03:04:05.123456Z', 'microseconds survive (the cursor depends on them)')
})

t.test('limits are 1..100 and bad cursors are 400', async t => {
  const app = await buildWithPortfolio(t)
  const user = await makeUser(t, app)
  const c = client(app, user)
  const p = await createPortfolio(c, 'One')
  await createPortfolio(c, 'Two')
  for (const limit of ['0', '101', '-1', '1.5', 'abc', '']) {
    t.equal((await c.get(`/api/portfolios?limit=${limit}`)).statusCode, 400, `limit=${limit}`)
  }
  const page = expectJson(await c.get('/api/portfolios?limit=1'), 200)
  t.type(page.nextCursor, 'string')
  t.match(page.nextCursor, /^[A-Za-z0-9_-]+$/, 'base64url')
  expectJson(await c.post(`/api/portfolios/${p.id}/transactions`, { side: 'buy', symbol: 'A', quantity: '1', price: '1' }), 201)
  expectJson(await c.post(`/api/portfolios/${p.id}/transactions`, { side: 'buy', symbol: 'A', quantity: '1', price: '1' }), 201)
  const tradePage = expectJson(await c.get(`/api/portfolios/${p.id}/transactions?limit=1`), 200)

  const b64 = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url')
  const bad = [
    'not base64!', '%00', b64('not json'), b64({ p: 1 }), b64(['p']), b64(['p', '2024-01-01T00:00:00.000000Z']),
    b64(['p', '2024-02-30T00:00:00.000000Z', p.id]), b64(['p', '2024-01-01T25:00:00.000000Z', p.id]),
    b64(['p', '2024-01-01 00:00:00', p.id]), b64(['p', '2024-01-01T00:00:00.000000Z', 'nope']),
    b64(['p', '2024-01-01T00:00:00.000000Z', p.id, 'extra']), b64(['p', 1, 2]), b64(['x', '2024-01-01T00:00:00.000000Z', p.id]),
    tradePage.nextCursor, // a trades cursor on the portfolio list
    'A'.repeat(600)
  ]
  for (const cursor of bad) {
    const res = await c.get(`/api/portfolios?cursor=${encodeURIComponent(cursor)}`)
    t.equal(res.statusCode, 400, `cursor ${cursor.slice(0, 50)}`)
    t.match(res.json().code, /^(INVALID_CURSOR|VALIDATION_FAILED)$/)
  }
  t.equal((await c.get(`/api/portfolios/${p.id}/transactions?cursor=${page.nextCursor}`)).statusCode, 400, 'a portfolio cursor on trades')
  t.equal((await c.get(`/api/portfolios/${p.id}/holdings?cursor=${b64(['h', 'lower'])}`)).statusCode, 400, 'a symbol that could not exist')
  t.equal((await c.get(`/api/portfolios/${p.id}/transactions?cursor=${tradePage.nextCursor}`)).statusCode, 200, 'the right cursor works')
})
