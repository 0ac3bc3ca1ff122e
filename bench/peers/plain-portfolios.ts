// Peer of rls-read: GET /api/portfolios without RLS. Bare Fastify, postgres.js connected as
// the table owner (DATABASE_ADMIN_URL, a superuser, which policies do not bind) with the
// server's own pool settings, running the route's own SQL through listPortfoliosPlain. The
// user comes from one Redis GET of the cookie, as ours costs one Redis round trip to find it.
import Fastify from 'fastify'
import cookie from '@fastify/cookie'
import { Redis } from 'ioredis'
import { createSql, type Sql } from '../../src/infra/db.js'
import { portfolioPage } from '../../src/portfolio/queries/portfolios.js'
import { toPage } from '../../src/portfolio/cursor.js'
import { PageQuerySchema, PortfolioPageSchema } from '../../src/portfolio/schemas.js'
import { need, serve } from './serve.js'
import { unauthorized } from './me-schema.js'

const prefix = need('KEY_PREFIX') + 'floor:'
const redis = new Redis(need('REDIS_URL'))
const sql = createSql(need('DATABASE_ADMIN_URL'), { max: Number(process.env.PG_POOL_MAX ?? 10), statementTimeoutMs: 5000 })

/**
 * The list of GET /api/portfolios without RLS: the route's own SQL, filtered by user_id alone
 * and run directly on the pool. It returns rows only on a connection the policies do not bind
 * (a superuser or BYPASSRLS role: FORCE binds even the table owner); on the app role it sees
 * nothing, which is the point of RLS. It lives here, not in src/, so no route can call it.
 */
function listPortfoliosPlain (sql: Sql, userId: string, limit: number) {
  return portfolioPage(sql, { ownerId: userId, after: null, take: limit })
}

const app = Fastify({ logger: false })
await app.register(cookie)
app.get('/api/portfolios', { schema: { querystring: PageQuerySchema, response: { 200: PortfolioPageSchema, 401: unauthorized } } }, async (request, reply) => {
  const sid = request.cookies.sid
  const raw = sid ? await redis.get(prefix + sid) : null
  if (!raw) return reply.code(401).send({ statusCode: 401, code: 'AUTH_REQUIRED' })
  const user = JSON.parse(raw) as { id: string }
  const { limit } = request.query as { limit: number }
  const rows = await listPortfoliosPlain(sql, user.id, limit + 1)
  return toPage(rows, limit, r => [r.createdAt, r.id], 'p')
})
app.get('/api/health', async () => ({ status: 'ok' }))
await serve(app, async () => {
  await redis.quit()
  await sql.end({ timeout: 5 })
})
