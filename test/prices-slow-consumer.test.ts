// A client that stops reading: the server keeps at most the slow bound plus one frame per
// symbol for it, coalesces to the latest prices, and closes it 1013 if it stays slow.
import t from 'tap'
import type { Socket } from 'node:net'
import { build } from './helper.js'
import { register } from './auth-helper.js'
import { listening, browserSocket, closeAll, sleep } from './ws-helper.js'

const SYMBOLS = Array.from({ length: 50 }, (_, i) => `SYM${i}`)
const SLOW_BUFFER = 16_384
const ENV = { PRICE_TICK_MS: '5', PRICE_LEADER_TTL: '1s', PRICE_SYMBOLS: SYMBOLS.join(','), WS_SLOW_BUFFER: String(SLOW_BUFFER) }
// one tick's frames for every symbol, the most that can be queued past the bound
const FRAME_ALLOWANCE = SYMBOLS.length * 100

const rawSocket = (ws: unknown): Socket => (ws as { _socket: Socket })._socket

t.test('a stalled reader: bounded buffer, then closed 1013', async t => {
  const app = await build(t, { ...ENV, WS_SLOW_CLOSE_AFTER: '1500ms' })
  const url = await listening(app)
  const user = await register(app)
  const s = await browserSocket(url, user.cookie)
  s.send({ type: 'subscribe', symbols: SYMBOLS })
  await s.next(f => f.type === 'price')
  rawSocket(s.ws).pause() // stop reading: the kernel buffers fill, then ws's queue

  const server = [...app.priceFeed.registry.all][0]!
  let maxBuffered = 0
  let maxPending = 0
  let wentSlow = false
  const deadline = Date.now() + 20_000
  while (server.ws.readyState === server.ws.OPEN && Date.now() < deadline) {
    maxBuffered = Math.max(maxBuffered, server.ws.bufferedAmount)
    maxPending = Math.max(maxPending, server.pending?.size ?? 0)
    if (server.pending) wentSlow = true
    await sleep(5)
  }
  t.ok(wentSlow, 'the socket was marked slow')
  t.ok(maxBuffered <= SLOW_BUFFER + FRAME_ALLOWANCE, `queued bytes stayed bounded: max ${maxBuffered} (bound ${SLOW_BUFFER} + ${FRAME_ALLOWANCE})`)
  t.ok(maxPending <= SYMBOLS.length, `coalesced frames held: at most one per symbol (max ${maxPending})`)
  t.equal(server.ws.readyState, server.ws.CLOSING, 'the server started closing it')
  rawSocket(s.ws).resume() // read the backlog and the close frame behind it
  const closed = await s.closed
  t.equal(closed.code, 1013, 'closed 1013 (try again later)')
})

t.test('a reader that catches up gets the latest prices and stays', async t => {
  const app = await build(t, { ...ENV, WS_SLOW_CLOSE_AFTER: '60s' })
  const url = await listening(app)
  const user = await register(app)
  const s = await browserSocket(url, user.cookie)
  s.send({ type: 'subscribe', symbols: SYMBOLS })
  await s.next(f => f.type === 'price')
  const server = [...app.priceFeed.registry.all][0]!
  rawSocket(s.ws).pause()
  const deadline = Date.now() + 20_000
  while (!server.pending && Date.now() < deadline) await sleep(5)
  t.ok(server.pending, 'slow')
  await sleep(300)
  rawSocket(s.ws).resume()
  while (server.pending && Date.now() < deadline) await sleep(5)
  t.notOk(server.pending, 'drained: back to live frames')
  await sleep(200)
  const latest = app.priceFeed.fanOut.latest.get('SYM7')!
  const seen = await s.next(f => f.type === 'price' && f.symbol === 'SYM7' && f.ts === latest.ts)
  t.equal(seen.price, latest.price, 'the client is current again')
  t.equal(s.ws.readyState, s.ws.OPEN)
  await closeAll([s])
})
