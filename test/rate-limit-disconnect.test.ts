// The limiter's key never throws (issue 18, item 8): a client that hangs up before the limiter
// runs leaves no address (request.ip is undefined), and @fastify/rate-limit's default key threw
// on it, logged as a 500. Here a real client really disconnects mid-request, over a real socket.
import t from 'tap'
import { connect } from 'node:net'
import type { FastifyRequest } from 'fastify'
import { DISCONNECTED_CLIENT_KEY, rateLimitKey, routeRateLimit } from '../src/core/rate-limits.js'
import { build, waitFor } from './helper.js'

t.test('a client that disconnects before the limiter runs is counted under one fallback key, never a 500', async t => {
  const lines: { level: number; msg: string }[] = []
  const statuses: number[] = []
  let handled = 0
  const app = await build(t, { LOG_LEVEL: 'error' }, {
    logStream: { write: (line: string) => { lines.push(JSON.parse(line)) } },
    routes: app => {
      app.get('/api/test/hang-up', {
        config: routeRateLimit(app.config, 'login'),
        // runs before the limiter's own onRequest hook: hold the request until its client is gone
        onRequest: async request => {
          const socket = request.raw.socket
          if (!socket.destroyed) await new Promise(resolve => socket.once('close', resolve))
        },
        onSend: async (_request, reply, payload) => {
          statuses.push(reply.statusCode)
          return payload
        }
      }, async () => {
        handled++
        return { ok: true }
      })
    }
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }

  const client = connect(port, '127.0.0.1')
  await new Promise(resolve => client.once('connect', resolve))
  // no body: a body's parser would wait forever for a stream that is gone (not this test's subject)
  client.write('GET /api/test/hang-up HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
  // give the server the headers, then hang up
  await new Promise(resolve => setTimeout(resolve, 100))
  client.destroy()

  await waitFor(() => statuses.length === 1, { what: 'the request answered (to nobody)' })
  t.same(statuses, [200], 'the request went through, not a 500')
  t.equal(handled, 1)
  t.same(lines.filter(l => l.level >= 50).map(l => l.msg), [], 'nothing logged as an error')
  // the store's key: namespace, method and route, then the generator's key
  const counted = await app.redis.get(`${app.config.redis.keyPrefix}rl:GET/api/test/hang-up-${DISCONNECTED_CLIENT_KEY}`)
  t.equal(counted, '1', 'the limiter counted it under the fallback key')
})

t.test('rateLimitKey: the address as the plugin normalises it; the fallback when there is none', async t => {
  const withIp = (ip: unknown) => ({ ip }) as unknown as FastifyRequest
  t.equal(rateLimitKey(withIp('10.1.2.3')), '10.1.2.3')
  t.equal(rateLimitKey(withIp('::ffff:10.1.2.3')), '10.1.2.3', 'an IPv4-mapped address is its IPv4 address')
  t.equal(rateLimitKey(withIp('2001:db8:1:2:3:4:5:6')), rateLimitKey(withIp('2001:db8:1:2:ffff::1')), 'one IPv6 /56, one bucket')
  t.equal(rateLimitKey(withIp(undefined)), DISCONNECTED_CLIENT_KEY)
  const throwing = { get ip (): string { throw new TypeError('proxy-addr: no socket address') } } as unknown as FastifyRequest
  t.equal(rateLimitKey(throwing), DISCONNECTED_CLIENT_KEY, 'a trust function that throws on a missing address')
})
