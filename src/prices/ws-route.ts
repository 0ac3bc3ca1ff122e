// GET /ws/prices: an ordinary GET through Fastify's hooks until the upgrade. Everything that
// can be refused is refused here, as HTTP, before a socket opens: a foreign Origin (browsers
// send cookies on a cross-site upgrade: WebSocket hijacking), a cookie without an Origin, no
// credential at all.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Config } from '../config/config.js'
import { Errors } from '../core/errors.js'
import { unauthenticatedError } from '../auth/legacy/retirement.js'
import { lockRoutesInScope } from '../core/lockdown.js'
import type { PriceFeed } from './feed.js'

export async function wsPriceRoute (app: FastifyInstance, { config, feed }: { config: Config; feed: PriceFeed }): Promise<void> {
  lockRoutesInScope(app) // SECURITY_LOCKDOWN refuses the upgrade with 503
  const allowed = new Set(config.allowedOrigins)
  const cookieName = config.session.cookieName
  const checkedAt = new WeakMap<FastifyRequest, number>()

  const checkUpgrade = async (request: FastifyRequest): Promise<void> => {
    if (!request.ws) throw new Errors.WS_UPGRADE_REQUIRED()
    const origin = request.headers.origin
    const hasCookie = request.cookies[cookieName] !== undefined
    // exact match only; no Origin is a non-browser client, which has no business with a cookie
    if (origin !== undefined ? !allowed.has(origin) : hasCookie) throw new Errors.WS_ORIGIN_REJECTED()
    // without a valid cookie or Bearer header, an Authorization header announces a client that
    // authenticates with its first message (it cannot be sent in the URL); with legacy tokens
    // retired, that header is refused before the upgrade (AUTH_LEGACY_RETIRED)
    if (!request.auth && (request.headers.authorization === undefined || !config.rollout.legacyAuthEnabled)) throw unauthenticatedError(request)
    checkedAt.set(request, Date.now())
  }

  app.get('/ws/prices', { websocket: true, onRequest: checkUpgrade, schema: { hide: true } }, (socket, request) => {
    feed.accept(socket, request, checkedAt.get(request) ?? Date.now())
  })
}
