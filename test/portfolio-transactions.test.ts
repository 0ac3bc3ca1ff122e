// Trades move holdings in the same transaction: exact decimal arithmetic, a sell beyond the
// quantity is a 422 that changes nothing, and concurrent sells never go below zero.
import t from 'tap'
import { adminSql } from './helper.js'
import { buildWithPortfolio, client, createPortfolio, expectJson, makeUser, type Client } from './portfolio-helper.js'

const trade = (c: Client, portfolioId: string, side: 'buy' | 'sell', symbol: string, quantity: string, price: string, fee?: string) =>
  c.post(`/api/portfolios/${portfolioId}/transactions`, { side, symbol, quantity, price, ...(fee ? { fee } : {}) })

t.test('a buy then a sell move quantity and average cost exactly', async t => {
  const app = await buildWithPortfolio(t)
  const c = client(app, await makeUser(t, app))
  const p = await createPortfolio(c, 'Trading')

  const first = expectJson(await trade(c, p.id, 'buy', 'acme', '10', '100'), 201)
  t.match(first.holding, { symbol: 'ACME', quantity: '10', averageCost: '100' }, 'a first buy creates the holding at its price')
  t.match(first.transaction, { portfolioId: p.id, symbol: 'ACME', side: 'buy', quantity: '10', price: '100', fee: '0' })

  const second = expectJson(await trade(c, p.id, 'buy', 'ACME', '5', '130', '1.5'), 201)
  t.match(second.holding, { quantity: '15', averageCost: '110' }, '(10 × 100 + 5 × 130) / 15 = 110')
  t.equal(second.transaction.fee, '1.5')

  const sell = expectJson(await trade(c, p.id, 'sell', 'ACME', '4.5', '150'), 201)
  t.match(sell.holding, { quantity: '10.5', averageCost: '110' }, 'a sell leaves the average cost as it was')
  t.match(sell.transaction, { side: 'sell', quantity: '4.5', price: '150' })

  // values a float would get wrong
  const tiny = expectJson(await trade(c, p.id, 'buy', 'DUST', '0.1', '0.2'), 201)
  const tiny2 = expectJson(await trade(c, p.id, 'buy', 'DUST', '0.2', '0.1'), 201)
  t.match(tiny.holding, { quantity: '0.1', averageCost: '0.2' })
  t.match(tiny2.holding, { quantity: '0.3', averageCost: '0.13333333' }, '(0.02 + 0.02) / 0.3, rounded to 8 places')
  expectJson(await trade(c, p.id, 'buy', 'THIRD', '1', '1'), 201)
  t.match(expectJson(await trade(c, p.id, 'buy', 'THIRD', '2', '2'), 201).holding, { quantity: '3', averageCost: '1.66666667' }, '5 / 3 rounds half up at the 8th place')
  const big = expectJson(await trade(c, p.id, 'buy', 'BIG', '12345678901234567890.12345678', '0.00000001'), 201)
  t.equal(big.holding.quantity, '12345678901234567890.12345678', 'all 28 digits survive')
  const allOut = expectJson(await trade(c, p.id, 'sell', 'BIG', '12345678901234567890.12345678', '1'), 201)
  t.match(allOut.holding, { quantity: '0', averageCost: '0.00000001' }, 'selling everything leaves 0, cost unchanged')

  const [row] = await adminSql(t)`select quantity::text, average_cost::text from holdings where portfolio_id = ${p.id} and symbol = 'ACME'`
  t.same(row, { quantity: '10.50000000', average_cost: '110.00000000' }, 'what Postgres holds')
  const list = expectJson(await c.get(`/api/portfolios/${p.id}/transactions`), 200)
  t.equal(list.items.length, 9)
  t.same(list.items.slice(-3).map((x: { side: string; quantity: string }) => `${x.side} ${x.quantity}`), ['sell 4.5', 'buy 5', 'buy 10'], 'newest first')
})

t.test('selling more than is held is 422 INSUFFICIENT_QUANTITY and changes nothing', async t => {
  const app = await buildWithPortfolio(t)
  const c = client(app, await makeUser(t, app))
  const sql = adminSql(t)
  const p = await createPortfolio(c, 'Short')
  expectJson(await trade(c, p.id, 'buy', 'LOW', '2', '10'), 201)

  for (const [symbol, quantity] of [['LOW', '2.00000001'], ['LOW', '3'], ['NONE', '1']] as const) {
    const res = await trade(c, p.id, 'sell', symbol, quantity, '10')
    t.equal(res.statusCode, 422, `sell ${quantity} ${symbol}`)
    t.equal(res.json().code, 'INSUFFICIENT_QUANTITY')
  }
  t.same(await sql`select symbol, quantity::text, average_cost::text from holdings where portfolio_id = ${p.id}`, [{ symbol: 'LOW', quantity: '2.00000000', average_cost: '10.00000000' }])
  t.same((await sql`select side from transactions where portfolio_id = ${p.id}`).map(r => r.side), ['buy'], 'no sell row written')

  const ghost = await trade(c, p.id.replace(/.$/, p.id.endsWith('0') ? '1' : '0'), 'sell', 'LOW', '1', '1')
  t.equal(ghost.statusCode, 404, 'an unknown portfolio is 404, not 422')
})

t.test('15 concurrent sells of 1 against a holding of 10: exactly 10 succeed', async t => {
  const app = await buildWithPortfolio(t, { PG_POOL_MAX: '4' })
  const c = client(app, await makeUser(t, app))
  const sql = adminSql(t)
  const p = await createPortfolio(c, 'Race')
  expectJson(await trade(c, p.id, 'buy', 'RACE', '10', '7'), 201)

  const results = await Promise.all(Array.from({ length: 15 }, () => trade(c, p.id, 'sell', 'RACE', '1', '8')))
  const codes = results.map(r => r.statusCode)
  t.equal(codes.filter(s => s === 201).length, 10, 'ten sells')
  t.equal(codes.filter(s => s === 422).length, 5, 'five refused')
  t.ok(results.filter(r => r.statusCode === 422).every(r => r.json().code === 'INSUFFICIENT_QUANTITY'))
  const remaining = results.filter(r => r.statusCode === 201).map(r => r.json().holding.quantity).sort((a: string, b: string) => Number(a) - Number(b))
  t.same(remaining, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'], 'each sell saw the quantity the previous one left')

  t.same(await sql`select quantity::text, average_cost::text from holdings where portfolio_id = ${p.id}`, [{ quantity: '0.00000000', average_cost: '7.00000000' }])
  const [sells] = await sql`select count(*)::int as n from transactions where portfolio_id = ${p.id} and side = 'sell'`
  t.equal(sells!.n, 10, 'exactly ten sell rows')
})

t.test('concurrent buys of one new symbol all land on one holding', async t => {
  const app = await buildWithPortfolio(t, { PG_POOL_MAX: '4' })
  const c = client(app, await makeUser(t, app))
  const p = await createPortfolio(c, 'Pile in')
  const results = await Promise.all(Array.from({ length: 12 }, (_, i) => trade(c, p.id, 'buy', 'PILE', '1', String(i + 1))))
  t.same(results.map(r => r.statusCode), Array(12).fill(201))
  const holdings = expectJson(await c.get(`/api/portfolios/${p.id}/holdings`), 200).items
  t.equal(holdings.length, 1)
  t.equal(holdings[0].quantity, '12')
  // every order of 1..12 averages to 6.5 up to the 8-place rounding of each step
  t.ok(Math.abs(Number(holdings[0].averageCost) - 6.5) < 1e-6, `average ${holdings[0].averageCost}`)
})
