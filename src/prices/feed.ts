// The price feed of one instance: its sockets, the fan-out of ticks from Redis pub/sub, and
// the revocation channel that closes sockets whose credential ended. A socket is registered
// under its credential BEFORE that credential is checked again, so a revocation is either
// heard through the maps or seen by the check — never lost in between.
import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { WebSocket } from 'ws'
import type { Config } from '../config/config.js'
import { subscriberFor, type RedisClient } from '../infra/redis.js'
import { parseRevokedMessage, revocationChannel } from '../auth/revocations.js'
import { verifyAccessToken } from '../auth/legacy/verify-access.js'
import { Close, closeSocket, errorFrame, type FeedClient, type SocketCredential } from './feed-client.js'
import { SocketRegistry } from './socket-registry.js'
import { createFanOut, type FanOut, type LatestPrice } from './fan-out.js'
import { priceKeys, type TickMessage } from './leader.js'
import { createUserSocketCap } from './user-socket-cap.js'
import { countClose, observeRevocation, trackOpenSockets, wsOpens } from './feed-metrics.js'
import { parseClientMessage, MAX_SYMBOLS_PER_SOCKET } from './protocol.js'

const BAD_MESSAGES_PER_MINUTE = 10
const TOMBSTONE_MS = 10_000
const MAX_TIMER_MS = 2 ** 31 - 1
const REVALIDATE_BATCH = 100

export interface PriceFeed {
  readonly registry: SocketRegistry
  readonly fanOut: FanOut
  /** true while the tick and revocation subscription is live */
  readonly subscribed: boolean
  /** the subscriber connection (tests cut it to prove sockets are re-validated) */
  readonly subscriber: RedisClient
  /** a socket that passed the upgrade checks; `checkedAt` is when its credential was read */
  accept: (ws: WebSocket, request: FastifyRequest, checkedAt: number) => void
  latestOf: (symbols: readonly string[]) => Promise<LatestPrice[]>
  revalidateAll: () => Promise<void>
  /** shutdown: close every socket with 1001 and wait (bounded) for them to go */
  closeAll: (waitMs: number) => Promise<void>
  stop: () => Promise<void>
}

export function createPriceFeed (app: FastifyInstance, config: Config): PriceFeed {
  const log = app.log
  const known = new Set(config.prices.symbols)
  const keys = priceKeys(config.redis.keyPrefix)
  const revocations = revocationChannel(config.redis.keyPrefix)
  const registry = new SocketRegistry()
  const untrackSockets = trackOpenSockets(registry)
  const fanOut = createFanOut(registry, config.ws)
  const cap = createUserSocketCap(app.redis, { keyPrefix: config.redis.keyPrefix, max: config.ws.maxPerUser, lapseMs: config.ws.pingIntervalMs * 3 })

  // revocations heard recently: a socket still being admitted checks these when it is bound
  const revokedAt = new Map<string, number>()
  const tombstone = (key: string, now: number): void => {
    revokedAt.delete(key)
    revokedAt.set(key, now)
    for (const [k, at] of revokedAt) {
      if (now - at < TOMBSTONE_MS) break
      revokedAt.delete(k)
    }
  }
  const revokedSince = (c: SocketCredential, since: number): boolean => {
    const own = revokedAt.get(c.kind === 'session' ? `s:${c.publicId}` : `j:${c.jti}`)
    const user = revokedAt.get(`u:${c.userId}`)
    return own !== undefined || (user !== undefined && user >= since)
  }

  const scheduleExpiry = (client: FeedClient): void => {
    if (client.expiryTimer) clearTimeout(client.expiryTimer)
    const c = client.credential
    if (!c) return
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, c.expiresAt - Date.now()) + (c.kind === 'session' ? 50 : 0))
    client.expiryTimer = setTimeout(() => {
      client.expiryTimer = null
      // a session's idle expiry may have moved (other requests slide it): ask the store
      if (client.credential?.kind === 'session') revalidate(client)
      else closeSocket(client, Close.UNAUTHORIZED, 'token expired')
    }, delay)
    client.expiryTimer.unref()
  }

  /** true when the socket may stay */
  const revalidate = async (client: FeedClient): Promise<boolean> => {
    const c = client.credential
    if (!c) return false
    try {
      if (c.kind === 'session') {
        const s = await app.sessions.validate(c.cookie)
        if (!s || s.publicId !== c.publicId) {
          closeSocket(client, Close.UNAUTHORIZED, 'session ended')
          return false
        }
        c.expiresAt = Math.min(s.idleExpiresAt, s.absoluteExpiresAt)
      } else {
        const a = await verifyAccessToken(app, c.token)
        if (!a || a.jti !== c.jti) {
          closeSocket(client, Close.UNAUTHORIZED, 'token ended')
          return false
        }
      }
      if (client.credential === c) scheduleExpiry(client)
      return true
    } catch (err) {
      // a dependency is down: keep the socket, the next sweep or resubscription checks again
      log.warn({ err: (err as Error).message }, 'prices: could not re-validate a socket')
      return true
    }
  }

  const revalidateAll = async (): Promise<void> => {
    const clients = [...registry.all].filter(c => c.admitted)
    for (let i = 0; i < clients.length; i += REVALIDATE_BATCH) {
      await Promise.all(clients.slice(i, i + REVALIDATE_BATCH).map(revalidate))
    }
  }

  /** binds the credential, checks it once more, claims a place under the per-user limit */
  const admit = async (client: FeedClient, credential: SocketCredential, checkedAt: number): Promise<void> => {
    registry.bind(client, credential)
    if (revokedSince(credential, checkedAt) || !(await revalidate(client))) {
      closeSocket(client, Close.UNAUTHORIZED, 'credential ended')
      return
    }
    if (!client.admitted) {
      let claimed: boolean
      try {
        claimed = await cap.claim(credential.userId, client.id)
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'prices: socket limit unavailable')
        closeSocket(client, Close.TRY_LATER, 'try again later')
        return
      }
      if (client.ws.readyState !== client.ws.OPEN) {
        cap.release(credential.userId, client.id).catch(() => {})
        return
      }
      if (!claimed) {
        closeSocket(client, Close.TOO_MANY_SOCKETS, `at most ${config.ws.maxPerUser} sockets per user`)
        return
      }
      client.admitted = true
    }
    client.ws.send(JSON.stringify({ type: 'ready', userId: credential.userId, expiresAt: credential.expiresAt }))
  }

  const bad = (client: FeedClient, code: string, message: string): void => {
    const now = Date.now()
    if (now - client.badWindowStart > 60_000) {
      client.badWindowStart = now
      client.badMessages = 0
    }
    client.badMessages++
    if (client.badMessages >= BAD_MESSAGES_PER_MINUTE) {
      closeSocket(client, Close.POLICY, 'too many bad messages')
      return
    }
    fanOut.deliver(client, `error:${client.badMessages}`, errorFrame(code, message))
  }

  const onMessage = (client: FeedClient, data: Parameters<typeof parseClientMessage>[0], isBinary: boolean): void => {
    const parsed = parseClientMessage(data, isBinary, known)
    if (!client.credential && !(parsed.ok && parsed.message.type === 'auth')) {
      // a socket without a cookie must first say who it is
      closeSocket(client, Close.UNAUTHORIZED, 'authenticate first')
      return
    }
    if (!parsed.ok) {
      bad(client, parsed.code, parsed.message)
      return
    }
    const m = parsed.message
    if (m.type === 'auth') {
      if (client.credential?.kind === 'session') {
        bad(client, 'WS_BAD_MESSAGE', 'this socket is authenticated by its session')
        return
      }
      const checkedAt = Date.now()
      verifyAccessToken(app, m.token).then(auth => {
        if (!auth || (client.credential && client.credential.userId !== auth.userId)) {
          closeSocket(client, Close.UNAUTHORIZED, 'invalid token')
          return
        }
        if (client.authTimer) clearTimeout(client.authTimer)
        client.authTimer = null
        return admit(client, { kind: 'legacy', userId: auth.userId, jti: auth.jti, token: m.token, expiresAt: auth.expiresAt }, checkedAt)
      }).catch(err => {
        log.warn({ err: (err as Error).message }, 'prices: token check failed')
        closeSocket(client, Close.TRY_LATER, 'try again later')
      })
      return
    }
    if (!client.admitted) return // still being admitted (the socket is paused for session sockets)
    if (m.type === 'unsubscribe') {
      registry.unsubscribe(client, m.symbols)
      return
    }
    const added = m.symbols.filter(s => !client.symbols.has(s))
    if (client.symbols.size + added.length > MAX_SYMBOLS_PER_SOCKET) {
      bad(client, 'WS_TOO_MANY_SYMBOLS', `at most ${MAX_SYMBOLS_PER_SOCKET} symbols per socket`)
      return
    }
    registry.subscribe(client, added)
    latestOf(m.symbols).then(prices => {
      fanOut.deliver(client, 'snapshot', JSON.stringify({ type: 'snapshot', prices }))
    }, () => {
      fanOut.deliver(client, 'snapshot', errorFrame('DEPENDENCY_UNAVAILABLE', 'no snapshot now; prices follow'))
    })
  }

  const accept: PriceFeed['accept'] = (ws, request, checkedAt) => {
    const client: FeedClient = {
      id: randomUUID(),
      ws,
      credential: null,
      symbols: new Set(),
      pending: null,
      slowSince: 0,
      badMessages: 0,
      badWindowStart: Date.now(),
      missedPongs: 0,
      expiryTimer: null,
      authTimer: null,
      admitted: false
    }
    registry.add(client)
    wsOpens.inc()
    ws.on('message', (data, isBinary) => onMessage(client, data, isBinary))
    ws.on('pong', () => { client.missedPongs = 0 })
    ws.on('close', code => {
      countClose(code)
      registry.remove(client)
      fanOut.forget(client)
      if (client.expiryTimer) clearTimeout(client.expiryTimer)
      if (client.authTimer) clearTimeout(client.authTimer)
      if (client.admitted && client.credential) cap.release(client.credential.userId, client.id).catch(() => {})
    })

    const auth = request.auth
    if (auth?.mode === 'session') {
      const cookie = request.cookies[config.session.cookieName] ?? ''
      ws.pause() // no message is read before the socket is admitted
      admit(client, { kind: 'session', userId: auth.userId, publicId: auth.sessionPublicId, cookie, expiresAt: Infinity }, checkedAt)
        .catch(err => { log.warn({ err: (err as Error).message }, 'prices: admission failed'); closeSocket(client, Close.TRY_LATER, 'try again later') })
        .finally(() => { if (ws.readyState === ws.OPEN) ws.resume() })
    } else if (auth?.mode === 'legacy') {
      const token = (request.headers.authorization ?? '').slice(7)
      ws.pause()
      admit(client, { kind: 'legacy', userId: auth.userId, jti: auth.jti, token, expiresAt: auth.expiresAt }, checkedAt)
        .catch(err => { log.warn({ err: (err as Error).message }, 'prices: admission failed'); closeSocket(client, Close.TRY_LATER, 'try again later') })
        .finally(() => { if (ws.readyState === ws.OPEN) ws.resume() })
    } else {
      client.authTimer = setTimeout(() => closeSocket(client, Close.AUTH_TIMEOUT, 'no auth message in time'), config.ws.authTimeoutMs)
    }
  }

  const closeRevoked = (clients: FeedClient[]): void => {
    for (const client of clients) closeSocket(client, Close.UNAUTHORIZED, 'session ended')
  }

  const onRevocation = (payload: string): void => {
    const m = parseRevokedMessage(payload)
    if (m === null) {
      revalidateAll() // unreadable: fail closed by checking everything
      return
    }
    const now = Date.now()
    if (m.publicId !== undefined) {
      tombstone(`s:${m.publicId}`, now)
      closeRevoked(registry.ofSession(m.publicId))
    } else if (m.jti !== undefined) {
      tombstone(`j:${m.jti}`, now)
      closeRevoked(registry.ofJti(m.jti))
    } else {
      tombstone(`u:${m.userId}`, now)
      closeRevoked(registry.ofUser(m.userId))
    }
    observeRevocation(m, Date.now())
  }

  const onTick = (payload: string): void => {
    let message: TickMessage
    try { message = JSON.parse(payload) as TickMessage } catch { return }
    if (typeof message.f !== 'number' || !Array.isArray(message.p)) return
    fanOut.onTick(message)
  }

  // one subscriber connection for ticks and revocations; messages sent while it is down are
  // lost, so every socket is re-validated each time the subscription is back
  const subscriber = subscriberFor(app.redis)
  let subscribed = false
  subscriber.on('message', (channel: string, payload: string) => {
    if (channel === keys.channel) onTick(payload)
    else if (channel === revocations) onRevocation(payload)
  })
  subscriber.on('ready', () => {
    subscriber.subscribe(keys.channel, revocations).then(() => {
      subscribed = true
      revalidateAll()
    }, err => log.warn({ err: (err as Error).message }, 'prices: subscribe failed'))
  })
  for (const event of ['close', 'reconnecting']) subscriber.on(event, () => { subscribed = false })
  subscriber.on('error', () => { /* the main client logs Redis errors */ })

  const latestOf = async (symbols: readonly string[]): Promise<LatestPrice[]> => {
    const missing = symbols.filter(s => !fanOut.latest.has(s))
    if (missing.length > 0) {
      const values = await (app.redis as Redis).hmget(keys.latest, ...missing)
      missing.forEach((symbol, i) => {
        const [price, ts] = (values[i] ?? '').split(' ')
        if (price && ts && !fanOut.latest.has(symbol)) fanOut.latest.set(symbol, { symbol, price, ts: Number(ts) })
      })
    }
    return symbols.flatMap(s => fanOut.latest.get(s) ?? [])
  }

  // pings, and the per-user claims refreshed on the same beat
  const pingTimer = setInterval(() => {
    const claims: { userId: string; socketId: string }[] = []
    for (const client of registry.all) {
      if (client.missedPongs >= 2) {
        client.ws.terminate()
        continue
      }
      client.missedPongs++
      client.ws.ping()
      if (client.admitted && client.credential) claims.push({ userId: client.credential.userId, socketId: client.id })
    }
    cap.refresh(claims).catch(err => log.warn({ err: (err as Error).message }, 'prices: socket claims not refreshed'))
  }, config.ws.pingIntervalMs)
  const sweepTimer = setInterval(() => { revalidateAll() }, config.ws.sweepIntervalMs)

  return {
    registry,
    fanOut,
    get subscribed () { return subscribed },
    subscriber,
    accept,
    latestOf,
    revalidateAll,
    async closeAll (waitMs) {
      const open = [...registry.all]
      for (const client of open) closeSocket(client, Close.GOING_AWAY, 'server shutting down')
      const deadline = Date.now() + waitMs
      while (open.some(c => c.ws.readyState !== c.ws.CLOSED) && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 20))
      for (const client of open) if (client.ws.readyState !== client.ws.CLOSED) client.ws.terminate()
    },
    async stop () {
      untrackSockets()
      clearInterval(pingTimer)
      clearInterval(sweepTimer)
      subscriber.removeAllListeners('ready')
      await subscriber.quit().catch(() => subscriber.disconnect())
    }
  }
}
