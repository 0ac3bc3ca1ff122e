// Our server (the same built buildApp, config and session check) plus routes only the bench
// registers, never shipped in src/:
// - GET /bench/portfolios-owner: the fair peer of rls-read. The same authenticate hook finds the
//   user; then the same SELECT as GET /api/portfolios runs as the table owner (DATABASE_ADMIN_URL,
//   a superuser, which policies do not bind) without RLS, through the same deadline and breaker
//   guard (infra/db-guard.ts) as the app's pool. The ratio of the two routes in this one process
//   is what RLS costs, and nothing else.
// - GET /metrics from prom-client's default registry, when the server does not serve it yet,
//   so the bench can read hallpass_session_validation_seconds after each run.
import { register } from 'prom-client'
import { serve } from './serve.js'
import { unauthorized } from './me-schema.js'

// The app and everything the owner route runs come from the build (dist/, made by `npm run bench`),
// as the server the bench starts does: the same source transpiled by tsx at load cost about 10 µs
// more of CPU per request (GET /api/health, npm run bench:profile), a handicap no peer carried.
const fromBuild = async <T>(path: string): Promise<T> => await import(new URL(`../../dist/src/${path}`, import.meta.url).href) as T
const { parseConfig } = await fromBuild<typeof import('../../src/config/config.js')>('config/config.js')
const { buildApp } = await fromBuild<typeof import('../../src/app.js')>('app.js')
const { createSql } = await fromBuild<typeof import('../../src/infra/db.js')>('infra/db.js')
const { createDbGuard } = await fromBuild<typeof import('../../src/infra/db-guard.js')>('infra/db-guard.js')
const { portfolioPage } = await fromBuild<typeof import('../../src/portfolio/queries/portfolios.js')>('portfolio/queries/portfolios.js')
const { toPage } = await fromBuild<typeof import('../../src/portfolio/cursor.js')>('portfolio/cursor.js')
const { PageQuerySchema, PortfolioPageSchema } = await fromBuild<typeof import('../../src/portfolio/schemas.js')>('portfolio/schemas.js')

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
