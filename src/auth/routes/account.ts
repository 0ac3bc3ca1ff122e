// Register, login, logout, me and password change. Browser clients get an opaque session id
// in an HttpOnly cookie; nothing secret ever appears in a URL or a response body.
import { randomBytes } from 'node:crypto'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../../config/config.js'
import { Errors } from '../../core/errors.js'
import { hashPassword, verifyPassword } from '../passwords/hash.js'
import { passwordProblem } from '../passwords/policy.js'
import { requireUser, authOf } from '../guards.js'
import { issueAuth } from '../issue-auth.js'
import { revokeEverything, revokedCount, unconfirmedDetail } from '../revoke-user.js'
import { redisSteps } from '../redis-steps.js'
import { endSessions } from '../end-sessions.js'
import { familyOfAccessToken, revokeFamily } from '../legacy/refresh-tokens.js'
import { clearSessionCookie } from '../sessions/cookie.js'
import { createLoginBackoff } from '../backoff.js'
import { routeRateLimit } from '../../core/rate-limits.js'
import { LOCKED } from '../../core/lockdown.js'
import { requestContext } from '../../core/request-context.js'
import { createUserWithPortfolio, EmailTakenError, findUserByEmail, findUserById, toIssuingUser } from '../users.js'
import { publishRevoked } from '../revocations.js'
import { AuthReplySchema, CredentialsSchema, MeReplySchema, PasswordChangeSchema, RegisterSchema, RevokedCountSchema } from '../schemas.js'
import { errorReplies } from '../../core/schemas.js'

// emails are compared trimmed and lower-cased; normalise before the schema checks the format
async function normalizeEmail (request: FastifyRequest): Promise<void> {
  const body = request.body as { email?: unknown } | undefined
  if (body && typeof body.email === 'string') body.email = body.email.trim().toLowerCase()
}

export const authRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  const backoff = createLoginBackoff(app.redis, config)
  // unknown emails are verified against this, so they cost what a wrong password costs
  const dummyHash = hashPassword(randomBytes(18).toString('base64url'))

  const audit = (request: FastifyRequest, event: Parameters<typeof app.audit.record>[0]): void =>
    app.audit.record({ ...requestContext(request), ...event })

  // Seconds to wait, or 0 once one attempt is reserved (counted before argon2 runs, so
  // concurrent guesses cannot all pass the check before any failure is recorded).
  const reserveAttempt = async (request: FastifyRequest, reply: FastifyReply, email: string, userId: string | null): Promise<void> => {
    const wait = await backoff.reserve(email)
    if (wait === 0) return
    app.audit.tally({ type: 'LOGIN_BACKOFF_REFUSED', userId, ...requestContext(request), details: { route: request.routeOptions.url ?? null } })
    reply.header('retry-after', String(wait))
    throw new Errors.AUTH_TOO_MANY_ATTEMPTS()
  }

  app.post('/api/auth/register', {
    preValidation: normalizeEmail,
    config: { ...routeRateLimit(config, 'register'), ...LOCKED, csrfEntryPoint: true },
    schema: {
      tags: ['auth'],
      summary: 'Create an account and log in',
      body: RegisterSchema,
      response: { 201: AuthReplySchema, ...errorReplies(400, 401, 403, 409, 429) }
    }
  }, async (request, reply) => {
    const { email, password } = request.body
    const problem = passwordProblem(password, email)
    if (problem) throw new Errors.AUTH_PASSWORD_REJECTED(problem)
    let user
    try {
      user = await createUserWithPortfolio(app.db.sql, email, await hashPassword(password))
    } catch (err) {
      if (err instanceof EmailTakenError) {
        // an accepted risk (README, security): the answer tells that the email exists, so
        // registration has its own tighter per-IP limit and every such answer is audited
        audit(request, { type: 'REGISTER_EMAIL_TAKEN', userId: null })
        throw new Errors.AUTH_EMAIL_TAKEN()
      }
      throw err
    }
    audit(request, { type: 'USER_REGISTERED', userId: user.id })
    const issued = await issueAuth(app, request, reply, user)
    return reply.code(201).send(issued)
  })

  app.post('/api/auth/login', {
    preValidation: normalizeEmail,
    config: { ...routeRateLimit(config, 'login'), ...LOCKED, csrfEntryPoint: true },
    schema: {
      tags: ['auth'],
      summary: 'Log in with email and password',
      body: CredentialsSchema,
      response: { 200: AuthReplySchema, ...errorReplies(400, 401, 403, 429) }
    }
  }, async (request, reply) => {
    const { email, password } = request.body
    await reserveAttempt(request, reply, email, null)
    const user = await findUserByEmail(app.db.sql, email)
    const valid = await verifyPassword(user?.passwordHash ?? await dummyHash, password)
    if (!user || !valid) {
      audit(request, { type: 'LOGIN_FAILURE', userId: user?.id ?? null, details: { reason: user ? 'bad_password' : 'unknown_email' } })
      throw new Errors.AUTH_INVALID_CREDENTIALS()
    }
    if (user.disabledAt) {
      audit(request, { type: 'LOGIN_FAILURE', userId: user.id, details: { reason: 'disabled' } })
      throw new Errors.AUTH_ACCOUNT_DISABLED()
    }
    await backoff.reset(email)
    // the credential version read above rides along: if a revocation commits while this login
    // runs, the session create (or the token checks) refuse what it would issue
    return issueAuth(app, request, reply, toIssuingUser(user))
  })

  app.get('/api/auth/me', {
    onRequest: requireUser,
    schema: { tags: ['auth'], summary: 'The caller', response: { 200: MeReplySchema, ...errorReplies(401) } }
  }, async request => {
    const auth = authOf(request)
    return {
      user: { id: auth.userId, email: auth.email, role: auth.role },
      auth: auth.mode === 'session' ? { mode: auth.mode, sessionId: auth.sessionPublicId } : { mode: auth.mode }
    }
  })

  // Logout and logout-all carry no per-IP limit: a neighbour behind the same NAT must never be
  // able to keep someone else's session alive. They need a live credential, so their cost is
  // bounded by what that credential could do anyway.
  app.post('/api/auth/logout', {
    onRequest: requireUser,
    schema: { tags: ['auth'], summary: 'End the current session', response: { 204: { type: 'null' }, ...errorReplies(401, 403, 503) } }
  }, async (request, reply) => {
    const auth = authOf(request)
    if (auth.mode === 'session') {
      // cleared first: even a 503 (Redis could not confirm; Postgres already refuses it) drops the cookie
      clearSessionCookie(reply, config)
      await endSessions(app, auth.userId, { only: auth.sessionPublicId }, 'logout', () =>
        audit(request, { type: 'LOGOUT', userId: auth.userId, sessionPublicId: auth.sessionPublicId }))
    } else {
      // this access token at once, and the refresh family it was issued with: each deny-list
      // entry is in Postgres before Redis is asked, so a refused Redis write cannot undo it
      const steps = redisSteps(app.denyList)
      await steps.run(app.denyList.deny(auth.jti, auth.userId, auth.expiresAt), undefined)
      const familyId = await familyOfAccessToken(app.db.sql, auth.jti)
      if (familyId) await steps.run(app.denyList.denyMany(await revokeFamily(app.db.sql, familyId, 'logout')), undefined)
      await steps.run(publishRevoked(app.redis, config.redis.keyPrefix, { userId: auth.userId, jti: auth.jti, reason: 'logout' }), undefined)
      const unconfirmed = await steps.settle()
      audit(request, { type: 'LOGOUT', userId: auth.userId, details: { mode: 'legacy', familyId, ...(unconfirmed ? { redisConfirmed: false } : {}) } })
      if (unconfirmed) throw unconfirmed
    }
    clearSessionCookie(reply, config)
    return reply.code(204).send()
  })

  app.post('/api/auth/logout-all', {
    onRequest: requireUser,
    schema: { tags: ['auth'], summary: 'End every session of the caller, this one included', response: { 200: RevokedCountSchema, ...errorReplies(401, 403, 503) } }
  }, async (request, reply) => {
    const auth = authOf(request)
    const revoked = await revokeEverything(app, auth.userId, 'logout_all')
    if (!revoked) throw new Errors.AUTH_REQUIRED() // the user no longer exists
    if (auth.mode === 'legacy') {
      const steps = redisSteps(app.denyList)
      await steps.run(app.denyList.deny(auth.jti, auth.userId, auth.expiresAt), undefined)
      revoked.unconfirmed ??= await steps.settle()
    }
    audit(request, { type: 'SESSIONS_REVOKED_ALL', userId: auth.userId, details: { sessions: revoked.sessions.length, families: revoked.families, accessTokens: revoked.accessTokens, scope: 'all', ...unconfirmedDetail(revoked) } })
    // the cookie goes either way: the session ended in Postgres
    clearSessionCookie(reply, config)
    if (revoked.unconfirmed) throw revoked.unconfirmed
    return { revoked: revokedCount(revoked) }
  })

  app.post('/api/auth/password', {
    onRequest: requireUser,
    config: routeRateLimit(config, 'login'),
    schema: {
      tags: ['auth'],
      summary: 'Change the password; every other session ends',
      body: PasswordChangeSchema,
      response: { 200: RevokedCountSchema, ...errorReplies(400, 401, 403, 429, 503) }
    }
  }, async (request, reply) => {
    const auth = authOf(request)
    const { currentPassword, newPassword } = request.body
    const user = await findUserById(app.db.sql, auth.userId)
    if (!user) throw new Errors.AUTH_REQUIRED()
    // the same per-account backoff as login: a stolen session must not be a password oracle
    await reserveAttempt(request, reply, user.email, user.id)
    if (!(await verifyPassword(user.passwordHash, currentPassword))) {
      audit(request, { type: 'LOGIN_FAILURE', userId: auth.userId, details: { reason: 'bad_current_password' } })
      throw new Errors.AUTH_INVALID_CREDENTIALS()
    }
    await backoff.reset(user.email)
    const problem = passwordProblem(newPassword, user.email) ?? (newPassword === currentPassword ? 'The new password must differ from the current one' : null)
    if (problem) throw new Errors.AUTH_PASSWORD_REJECTED(problem)
    // the new hash, the version bump and the end of every other session and of every legacy
    // family, in one operation; a legacy caller logs in again
    const keep = auth.mode === 'session' ? auth.sessionPublicId : undefined
    const revoked = await revokeEverything(app, user.id, 'password_changed', {
      change: { kind: 'password', passwordHash: await hashPassword(newPassword) },
      ...(keep ? { keepSessionPublicId: keep } : {})
    })
    if (!revoked) throw new Errors.AUTH_REQUIRED()
    audit(request, { type: 'PASSWORD_CHANGED', userId: user.id, ...(keep ? { sessionPublicId: keep } : {}), details: { sessions: revoked.sessions.length, families: revoked.families, ...unconfirmedDetail(revoked) } })
    if (revoked.unconfirmed) throw revoked.unconfirmed
    return { revoked: revokedCount(revoked) }
  })
}
