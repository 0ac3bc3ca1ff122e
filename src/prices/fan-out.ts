// Sends each tick to this instance's subscribed sockets. A price frame is serialised once per
// symbol per tick and the same string goes to every socket. ws queues without limit, so each
// send looks at bufferedAmount first: above the slow bound a socket gets no more frames, only
// its latest frame per symbol kept aside (at most one per subscribed symbol) and sent once it
// has drained; a socket that stays slow too long is closed 1013. What is held for a slow
// socket is therefore bounded by the slow bound plus one frame per symbol.
import { Close, closeSocket, type FeedClient } from './feed-client.js'
import type { SocketRegistry } from './socket-registry.js'
import type { TickMessage } from './leader.js'

export interface LatestPrice { symbol: string; price: string; ts: number }

export interface FanOut {
  readonly latest: Map<string, LatestPrice>
  /** the highest fencing token seen: ticks of an older leader that arrive late are dropped */
  readonly fence: number
  onTick: (message: TickMessage) => void
  /** a frame to one socket, under the same slow-consumer rule */
  deliver: (client: FeedClient, key: string, frame: string) => void
  forget: (client: FeedClient) => void
}

const priceFrame = (p: LatestPrice): string =>
  `{"type":"price","symbol":${JSON.stringify(p.symbol)},"price":"${p.price}","ts":${p.ts}}`

export function createFanOut (registry: SocketRegistry, opts: { slowBufferBytes: number; slowCloseAfterMs: number }): FanOut {
  const latest = new Map<string, LatestPrice>()
  const slow = new Set<FeedClient>()
  let fence = 0

  const deliver = (client: FeedClient, key: string, frame: string): void => {
    const ws = client.ws
    if (ws.readyState !== ws.OPEN) return
    if (client.pending) {
      client.pending.set(key, frame)
    } else if (ws.bufferedAmount > opts.slowBufferBytes) {
      client.pending = new Map([[key, frame]])
      client.slowSince = Date.now()
      slow.add(client)
    } else {
      ws.send(frame)
    }
  }

  // once per tick, before the new prices: flush the sockets that drained, close the stuck ones
  const checkSlow = (now: number): void => {
    for (const client of slow) {
      const ws = client.ws
      if (ws.readyState !== ws.OPEN) {
        forget(client)
      } else if (ws.bufferedAmount <= opts.slowBufferBytes) {
        const pending = client.pending
        forget(client)
        for (const frame of pending?.values() ?? []) ws.send(frame)
      } else if (now - client.slowSince > opts.slowCloseAfterMs) {
        forget(client)
        closeSocket(client, Close.TRY_LATER, 'too slow to keep up')
      }
    }
  }

  const forget = (client: FeedClient): void => {
    client.pending = null
    slow.delete(client)
  }

  return {
    latest,
    get fence () { return fence },
    deliver,
    forget,
    onTick (message) {
      if (message.f < fence) return
      fence = message.f
      checkSlow(Date.now())
      for (const [symbol, price] of message.p) {
        const p = { symbol, price, ts: message.ts }
        latest.set(symbol, p)
        const clients = registry.subscribersOf(symbol)
        if (!clients) continue
        const frame = priceFrame(p)
        for (const client of clients) deliver(client, symbol, frame)
      }
    }
  }
}
