// Ticks, the protocol and its limits, with real sockets on two instances sharing Redis.
import t from 'tap'
import { build } from './helper.js'
import { register, login, browser, ORIGIN } from './auth-helper.js'
import { FEED_ENV, twoInstances, listening, connect, browserSocket, closeAll, sleep, type Frame } from './ws-helper.js'

t.test('ticks reach the clients of both instances with identical prices', async t => {
  const { a, urlA, urlB } = await twoInstances(t)
  const user = await register(a)
  const second = await login(a, user.email)
  const onA = await browserSocket(urlA, user.cookie)
  const onB = await browserSocket(urlB, second.cookie)
  onA.send({ type: 'subscribe', symbols: ['AAPL', 'MSFT'] })
  onB.send({ type: 'subscribe', symbols: ['AAPL', 'MSFT'] })
  const snapshot = await onA.next(f => f.type === 'snapshot')
  t.ok(Array.isArray(snapshot.prices), 'a snapshot on subscribe')
  await sleep(1000)
  const ticks = (frames: Frame[]) => frames.filter(f => f.type === 'price').map(f => `${f.symbol} ${f.price} ${f.ts}`)
  const seenA = ticks(onA.frames)
  const seenB = new Set(ticks(onB.frames))
  t.ok(seenA.length >= 10, `ticks arrived on A (${seenA.length})`)
  const common = seenA.filter(x => seenB.has(x))
  t.ok(common.length >= seenA.length - 4, `A and B saw the same ticks (${common.length} of ${seenA.length} in common)`)
  t.ok(onA.frames.filter(f => f.type === 'price').every(f => /^[0-9]+\.[0-9]{2}$/.test(String(f.price))), 'prices are decimal strings')
  t.same(new Set(onA.frames.filter(f => f.type === 'price').map(f => f.symbol)), new Set(['AAPL', 'MSFT']), 'only the subscribed symbols')

  onA.send({ type: 'unsubscribe', symbols: ['MSFT'] })
  await sleep(200)
  const before = onA.frames.length
  await sleep(400)
  t.same(new Set(onA.frames.slice(before).map(f => f.symbol)), new Set(['AAPL']), 'unsubscribe stops a symbol')
  await closeAll([onA, onB])
})

t.test('malformed, unknown, oversize and flooding clients', async t => {
  const app = await build(t, FEED_ENV)
  const url = await listening(app)
  const user = await register(app)

  const s = await browserSocket(url, user.cookie)
  const cases: [unknown, string][] = [
    ['not json', 'WS_BAD_MESSAGE'],
    [[1, 2], 'WS_BAD_MESSAGE'],
    [{ type: 'dance' }, 'WS_BAD_MESSAGE'],
    [{ type: 'subscribe', symbols: 'AAPL' }, 'WS_BAD_MESSAGE'],
    [{ type: 'subscribe', symbols: ['NOPE'] }, 'PRICES_UNKNOWN_SYMBOL'],
    [{ type: 'subscribe', symbols: Array.from({ length: 51 }, (_, i) => `S${i}`) }, 'WS_TOO_MANY_SYMBOLS']
  ]
  for (const [message, code] of cases) {
    s.send(message)
    const f = await s.next(f => f.type === 'error' && !(f as { seen?: boolean }).seen)
    ;(f as { seen?: boolean }).seen = true
    t.equal(f.code, code, `${JSON.stringify(message).slice(0, 40)} → ${code}`)
  }
  t.equal(s.ws.readyState, s.ws.OPEN, 'a few bad messages keep the socket open')
  t.notOk(app.priceFeed.registry.subscribersOf('NOPE'), 'nothing subscribed by a bad message')
  for (let i = 0; i < 4; i++) s.send('{')
  const flood = await s.closed
  t.equal(flood.code, 1008, 'the 10th bad message in a minute closes 1008')

  const big = await browserSocket(url, user.cookie)
  big.send(JSON.stringify({ type: 'subscribe', symbols: ['AAPL'], pad: 'x'.repeat(5000) }))
  t.equal((await big.closed).code, 1009, 'a frame over 4 KB closes 1009')

  const bin = await browserSocket(url, user.cookie)
  bin.ws.send(Buffer.from([1, 2, 3]))
  t.equal((await bin.next(f => f.type === 'error')).code, 'WS_BAD_MESSAGE', 'binary frames are refused')
  await closeAll([bin])
})

t.test('at most WS_MAX_PER_USER sockets per user, across instances', async t => {
  const { a, urlA, urlB } = await twoInstances(t, { WS_MAX_PER_USER: '3' })
  const user = await register(a)
  const other = await register(a)
  const held = [await browserSocket(urlA, user.cookie), await browserSocket(urlB, user.cookie), await browserSocket(urlA, user.cookie)]
  const fourth = connect(urlB, { cookie: user.cookie, origin: ORIGIN })
  t.equal((await fourth.closed).code, 4429, 'the fourth socket, on the other instance, closes 4429')
  t.notOk(fourth.frames.some(f => f.type === 'ready'), 'and was never admitted')
  const theirs = await browserSocket(urlB, other.cookie)
  t.ok(theirs, 'another user is not affected')

  held[0]!.ws.close()
  await held[0]!.closed
  await sleep(100)
  const again = await browserSocket(urlB, user.cookie)
  t.equal(again.ws.readyState, again.ws.OPEN, 'a closed socket frees its place')
  await closeAll([...held, theirs, again])
})

t.test('GET /api/prices', async t => {
  const app = await build(t, FEED_ENV)
  const user = await register(app)
  await sleep(300)
  const res = await app.inject({ method: 'GET', url: '/api/prices?symbols=AAPL,MSFT', headers: browser(user.cookie) })
  t.equal(res.statusCode, 200)
  t.same(res.json().prices.map((p: { symbol: string }) => p.symbol), ['AAPL', 'MSFT'])
  t.match(res.json().prices[0], { price: /^[0-9]+\.[0-9]{2}$/, ts: Number })
  const all = await app.inject({ method: 'GET', url: '/api/prices', headers: browser(user.cookie) })
  t.equal(all.json().prices.length, app.config.prices.symbols.length, 'every symbol when none are named')

  for (const [query, code] of [['NOPE', 'PRICES_UNKNOWN_SYMBOL'], ['aapl', 'VALIDATION_FAILED'], ['AAPL,,MSFT', 'VALIDATION_FAILED'], ['A'.repeat(11), 'VALIDATION_FAILED']] as const) {
    const bad = await app.inject({ method: 'GET', url: `/api/prices?symbols=${query}`, headers: browser(user.cookie) })
    t.equal(bad.statusCode, 400, `${query} → 400`)
    t.equal(bad.json().code, code)
  }
  const anonymous = await app.inject({ method: 'GET', url: '/api/prices' })
  t.equal(anonymous.statusCode, 401)
  t.equal(anonymous.json().code, 'AUTH_REQUIRED')
})

t.test('a peer that misses two pongs is dropped; one that answers stays', async t => {
  const app = await build(t, { ...FEED_ENV, WS_PING_INTERVAL: '200ms' })
  const url = await listening(app)
  const user = await register(app)
  const alive = await browserSocket(url, user.cookie)
  const { default: WebSocket } = await import('ws')
  const deaf = new WebSocket(url, { headers: { cookie: user.cookie, origin: ORIGIN }, autoPong: false })
  const closed = new Promise<number>(resolve => deaf.once('close', code => resolve(code)))
  await new Promise(resolve => deaf.once('open', resolve))
  const openedAt = Date.now()
  const code = await Promise.race([closed, sleep(3000).then(() => null)])
  t.equal(code, 1006, 'dropped without a close handshake')
  t.ok(Date.now() - openedAt >= 400, `after two missed pongs (${Date.now() - openedAt} ms)`)
  t.equal(alive.ws.readyState, alive.ws.OPEN, 'the answering peer stays')
  await closeAll([alive])
})
