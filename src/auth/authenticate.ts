// The authenticate hook: one Redis round trip and no Postgres work. A session cookie is read
// and slid in one Lua call; a legacy Bearer JWT is verified locally (HS256 pinned) and its
// jti and credential version checked against the deny list (one MGET). Sets request.auth or leaves it null; routes decide
// whether they need it (guards.ts). A malformed cookie or token never reaches Redis. A session
// cookie that no longer validates is cleared on the reply and remembered (request.sessionEnded),
// so a guard answers 401 SESSION_EXPIRED instead of the anonymous AUTH_REQUIRED.
import fp from 'fastify-plugin'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../config/config.js'
import './context.js'
import { browserFamily } from './sessions/device.js'
import type { ValidSession } from './sessions/types.js'
import { verifyAccessToken } from './legacy/verify-access.js'
import { clearSessionCookie } from './sessions/cookie.js'

const ANOMALY_MEMORY = 10_000

export const authenticatePlugin = fp<{ config: Config }>(async (app, { config }) => {
  const cookieName = config.session.cookieName
  // one SESSION_ANOMALY row per session and new (ip, browser), not one per request
  const reported = new Set<string>()

  const checkAnomaly = (request: FastifyRequest, s: ValidSession): void => {
    const ua = request.headers['user-agent'] ?? ''
    if (s.ip === request.ip && s.userAgent === ua.slice(0, 512)) return
    const browser = s.userAgent === ua ? s.device.browser : browserFamily(ua)
    const ipChanged = s.ip !== request.ip
    const browserChanged = browser !== s.device.browser
    if (!ipChanged && !browserChanged) return
    const key = `${s.publicId}|${request.ip}|${browser}`
    if (reported.has(key)) return
    if (reported.size >= ANOMALY_MEMORY) reported.clear()
    reported.add(key)
    app.audit.record({
      type: 'SESSION_ANOMALY',
      userId: s.userId,
      sessionPublicId: s.publicId,
      ip: request.ip,
      userAgent: ua,
      details: { ipChanged, browserChanged, loginIp: s.ip, loginBrowser: s.device.browser, browser }
    })
  }

  // a session cookie: validated and slid; one that no longer validates is cleared and the
  // Bearer header, if any, is tried next
  const withSession = async (request: FastifyRequest, reply: FastifyReply, token: string): Promise<void> => {
    const session = await app.sessions.validate(token)
    if (session) {
      request.auth = { mode: 'session', userId: session.userId, email: session.email, role: session.role, sessionPublicId: session.publicId }
      if (session.touched) app.sessionMirror.seen(session.publicId, session.lastSeenAt, session.idleExpiresAt)
      checkAnomaly(request, session)
      return
    }
    request.sessionEnded = true
    clearSessionCookie(reply, config)
    const authorization = request.headers.authorization
    if (authorization?.startsWith('Bearer ')) {
      request.auth = await verifyAccessToken(app, authorization.slice(7))
    }
  }

  app.decorateRequest('auth', null)
  app.decorateRequest('sessionEnded', false)
  // Callback style, not async: a request without a credential (health probes, pages, the
  // login itself) goes on at once with no promise made, and a Bearer request makes only the
  // deny-list check's.
  app.addHook('onRequest', (request, reply, done) => {
    const token = request.cookies[cookieName]
    if (token) {
      withSession(request, reply, token).then(() => { done() }, done)
      return
    }
    const authorization = request.headers.authorization
    if (authorization?.startsWith('Bearer ')) {
      verifyAccessToken(app, authorization.slice(7)).then(auth => { request.auth = auth; done() }, done)
      return
    }
    done()
  })
}, { name: 'authenticate', dependencies: ['sessions', 'legacy', 'audit'] })
