// Peer of our legacy Bearer path: @fastify/jwt verify (HS256, iss and aud checked) plus one Redis
// read of a deny list keyed by the token's jti, the usual way to make a stateless JWT revocable.
// The fair comparison for ours: stateless verify and one Redis round trip.
import Fastify from 'fastify'
import jwt from '@fastify/jwt'
import { Redis } from 'ioredis'
import { need, serve } from './serve.js'
import { meReply, unauthorized, type MeUser } from './me-schema.js'

const denied = need('KEY_PREFIX') + 'deny:'
const redis = new Redis(need('REDIS_URL'))

const app = Fastify({ logger: false })
await app.register(jwt, {
  secret: need('JWT_ACCESS_SECRET'),
  verify: { algorithms: ['HS256'], allowedIss: need('JWT_ISSUER'), allowedAud: need('JWT_AUDIENCE') }
})
app.get('/api/auth/me', { schema: { response: { 200: meReply, 401: unauthorized } } }, async (request, reply) => {
  let claims: { sub: string; email: string; role: string; jti?: string }
  try {
    claims = await request.jwtVerify()
  } catch {
    return reply.code(401).send({ statusCode: 401, code: 'AUTH_REQUIRED' })
  }
  if (await redis.exists(denied + (claims.jti ?? claims.sub))) return reply.code(401).send({ statusCode: 401, code: 'AUTH_REQUIRED' })
  const user: MeUser = { id: claims.sub, email: claims.email, role: claims.role }
  return { user, auth: { mode: 'legacy' } }
})
app.get('/api/health', async () => ({ status: 'ok' }))
await serve(app, async () => { await redis.quit() })
