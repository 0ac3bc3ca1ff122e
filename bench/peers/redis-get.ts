// Peer: the one-round-trip floor. Bare Fastify with @fastify/cookie and one ioredis GET per
// request (the user stored under the cookie value), then the same reply as our /api/auth/me.
// A cookie-session server cannot do less: anything under this is not checking the cookie.
import Fastify from 'fastify'
import cookie from '@fastify/cookie'
import { Redis } from 'ioredis'
import { need, serve } from './serve.js'
import { meReply, unauthorized, type MeUser } from './me-schema.js'

const prefix = need('KEY_PREFIX') + 'floor:'
const redis = new Redis(need('REDIS_URL'))
const app = Fastify({ logger: false })
await app.register(cookie)
app.get('/api/auth/me', { schema: { response: { 200: meReply, 401: unauthorized } } }, async (request, reply) => {
  const sid = request.cookies.sid
  const raw = sid ? await redis.get(prefix + sid) : null
  if (!raw) return reply.code(401).send({ statusCode: 401, code: 'AUTH_REQUIRED' })
  return { user: JSON.parse(raw) as MeUser, auth: { mode: 'session' } }
})
app.get('/api/health', async () => ({ status: 'ok' }))
await serve(app, async () => { await redis.quit() })
