// Our server (the same buildApp, config and session check) plus routes only the bench
// registers, never shipped in src/:
// - GET /bench/portfolios-owner: the fair peer of rls-read. The same authenticate hook finds the
//   user; then the same SELECT as GET /api/portfolios runs as the table owner (DATABASE_ADMIN_URL,
//   a superuser, which policies do not bind) without RLS, through the same deadline and breaker
//   guard (infra/db-guard.ts) as the app's pool. The ratio of the two routes in this one process
//   is what RLS costs, and nothing else.
// - GET /metrics from prom-client's default registry, when the server does not serve it yet,
//   so the bench can read hallpass_session_validation_seconds after each run.
import { register } from 'prom-client'
import { parseConfig } from '../../src/config/config.js'
import { buildApp } from '../../src/app.js'
import { createSql } from '../../src/infra/db.js'
import { createDbGuard } from '../../src/infra/db-guard.js'
import { portfolioPage } from '../../src/portfolio/queries/portfolios.js'
import { toPage } from '../../src/portfolio/cursor.js'
import { PageQuerySchema, PortfolioPageSchema } from '../../src/portfolio/schemas.js'
import { serve } from './serve.js'
import { unauthorized } from './me-schema.js'

const { config } = parseConfig()
const app = await buildApp(config)
const ownerPool = createSql(config.db.adminUrl, { max: config.db.poolMax, statementTimeoutMs: 5000 })
const ownerSql = createDbGuard({ deadlineMs: config.db.queryTimeoutMs, poolMax: config.db.poolMax }).wrap(ownerPool)

app.get('/bench/portfolios-owner', { schema: { querystring: PageQuerySchema, response: { 200: PortfolioPageSchema, 401: unauthorized } } }, async (request, reply) => {
  if (!request.auth) return reply.code(401).send({ statusCode: 401, code: 'AUTH_REQUIRED' })
  const { limit } = request.query as { limit: number }
  const rows = await portfolioPage(ownerSql, { ownerId: request.auth.userId, after: null, take: limit + 1 })
  return toPage(rows, limit, r => [r.createdAt, r.id], 'p')
})

if (!app.hasRoute({ method: 'GET', url: '/metrics' })) {
  app.get('/metrics', async (_request, reply) => reply.type(register.contentType).send(await register.metrics()))
}

await serve(app, async () => { await ownerPool.end({ timeout: 5 }) })
