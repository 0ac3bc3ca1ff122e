// Peer: @fastify/session + connect-redis (which takes node-redis since its version 9), in
// their default configuration apart from a plain-http cookie: rolling sessions, so every
// authenticated request reads the session and saves it back (a GET and a SET).
import Fastify from 'fastify'
import cookie from '@fastify/cookie'
import session from '@fastify/session'
import { createClient } from 'redis'
import { RedisStore } from 'connect-redis'
import { need, serve } from './serve.js'
import { meReply, unauthorized, type MeUser } from './me-schema.js'

declare module 'fastify' {
  interface Session { user?: MeUser }
}

const client = createClient({ url: need('REDIS_URL') })
client.on('error', err => console.error('redis:', err.message))
await client.connect()

const app = Fastify({ logger: false })
await app.register(cookie)
await app.register(session, {
  secret: need('FASTIFY_SESSION_SECRET'),
  cookieName: 'sid',
  cookie: { secure: false, httpOnly: true, sameSite: 'lax', maxAge: 24 * 60 * 60 * 1000 },
  saveUninitialized: false,
  store: new RedisStore({ client, prefix: need('KEY_PREFIX') + 'fsess:' }) as never
})
app.get('/api/auth/me', { schema: { response: { 200: meReply, 401: unauthorized } } }, async (request, reply) => {
  const user = request.session.get('user')
  if (!user) return reply.code(401).send({ statusCode: 401, code: 'AUTH_REQUIRED' })
  return { user, auth: { mode: 'session' } }
})
app.get('/api/health', async () => ({ status: 'ok' }))
await serve(app, async () => { await client.quit() })
