// Peer: @fastify/jwt, verify only (HS256, iss and aud checked, its default: no verify cache).
// Stateless and so not revocable: the cost of a check that never asks anyone.
import Fastify from 'fastify'
import jwt from '@fastify/jwt'
import { need, serve } from './serve.js'
import { meReply, unauthorized, type MeUser } from './me-schema.js'

const app = Fastify({ logger: false })
await app.register(jwt, {
  secret: need('JWT_ACCESS_SECRET'),
  verify: { algorithms: ['HS256'], allowedIss: need('JWT_ISSUER'), allowedAud: need('JWT_AUDIENCE') }
})
app.get('/api/auth/me', { schema: { response: { 200: meReply, 401: unauthorized } } }, async (request, reply) => {
  try {
    const claims = await request.jwtVerify<{ sub: string; email: string; role: string }>()
    const user: MeUser = { id: claims.sub, email: claims.email, role: claims.role }
    return { user, auth: { mode: 'legacy' } }
  } catch {
    return reply.code(401).send({ statusCode: 401, code: 'AUTH_REQUIRED' })
  }
})
app.get('/api/health', async () => ({ status: 'ok' }))
await serve(app)
