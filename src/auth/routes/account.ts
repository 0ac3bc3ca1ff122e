// Register, login, logout, me and password change. Browser clients get an opaque session id
// in an HttpOnly cookie; nothing secret ever appears in a URL or a response body.
import { randomBytes } from 'node:crypto'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import type { Config } from '../../config/config.js'
import { Errors } from '../../core/errors.js'
import { hashPassword, verifyPassword } from '../passwords/hash.js'
import { passwordProblem } from '../passwords/policy.js'
import { requireUser, authOf } from '../guards.js'
import { issueAuth } from '../issue-auth.js'
import { revokeEverything, revokedCount } from '../revoke-user.js'
import { familyOfAccessToken, revokeFamily } from '../legacy/refresh-tokens.js'
import { clearSessionCookie } from '../sessions/cookie.js'
import { createLoginBackoff } from '../backoff.js'
import { routeRateLimit } from '../../core/rate-limits.js'
import { LOCKED } from '../../core/lockdown.js'
import { requestContext } from '../../core/request-context.js'
import { createUserWithPortfolio, EmailTakenError, findUserByEmail, findUserById, toPublicUser, updatePasswordHash } from '../users.js'
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

  app.post('/api/auth/register', {
    preValidation: normalizeEmail,
    config: { ...routeRateLimit(config, 'login'), ...LOCKED, csrfEntryPoint: true },
    schema: {
      tags: ['auth'],
      summary: 'Create an account and log in',
      body: RegisterSchema,
      response: { 201: AuthReplySchema, ...errorReplies(400, 403, 409, 429) }
    }
  }, async (request, reply) => {
    const { email, password } = request.body
    const problem = passwordProblem(password, email)
    if (problem) throw new Errors.AUTH_PASSWORD_REJECTED(problem)
    let user
    try {
      user = await createUserWithPortfolio(app.db.sql, email, await hashPassword(password))
    } catch (err) {
      if (err instanceof EmailTakenError) throw new Errors.AUTH_EMAIL_TAKEN()
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
    const wait = await backoff.retryAfter(email)
    if (wait > 0) {
      void reply.header('retry-after', String(wait))
      throw new Errors.AUTH_TOO_MANY_ATTEMPTS()
    }
    const user = await findUserByEmail(app.db.sql, email)
    const valid = await verifyPassword(user?.passwordHash ?? await dummyHash, password)
    if (!user || !valid) {
      await backoff.recordFailure(email)
      audit(request, { type: 'LOGIN_FAILURE', userId: user?.id ?? null, details: { reason: user ? 'bad_password' : 'unknown_email' } })
      throw new Errors.AUTH_INVALID_CREDENTIALS()
    }
    if (user.disabledAt) {
      audit(request, { type: 'LOGIN_FAILURE', userId: user.id, details: { reason: 'disabled' } })
      throw new Errors.AUTH_ACCOUNT_DISABLED()
    }
    await backoff.reset(email)
    return issueAuth(app, request, reply, toPublicUser(user))
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

  app.post('/api/auth/logout', {
    onRequest: requireUser,
    config: routeRateLimit(config, 'logout'),
    schema: { tags: ['auth'], summary: 'End the current session', response: { 204: { type: 'null' }, ...errorReplies(401, 403, 429) } }
  }, async (request, reply) => {
    const auth = authOf(request)
    if (auth.mode === 'session') {
      await app.sessions.revoke(auth.userId, auth.sessionPublicId, 'logout')
      app.sessionMirror.revoked([auth.sessionPublicId], 'logout')
      audit(request, { type: 'LOGOUT', userId: auth.userId, sessionPublicId: auth.sessionPublicId })
    } else {
      // this access token at once, and the refresh family it was issued with
      await app.denyList.deny(auth.jti, auth.userId, auth.expiresAt)
      const familyId = await familyOfAccessToken(app.db.sql, auth.jti)
      if (familyId) await app.denyList.denyMany(await revokeFamily(app.db.sql, familyId, 'logout'))
      audit(request, { type: 'LOGOUT', userId: auth.userId, details: { mode: 'legacy', familyId } })
    }
    clearSessionCookie(reply, config)
    return reply.code(204).send()
  })

  app.post('/api/auth/logout-all', {
    onRequest: requireUser,
    config: routeRateLimit(config, 'logout'),
    schema: { tags: ['auth'], summary: 'End every session of the caller, this one included', response: { 200: RevokedCountSchema, ...errorReplies(401, 403, 429) } }
  }, async (request, reply) => {
    const auth = authOf(request)
    const revoked = await revokeEverything(app, auth.userId, 'logout_all')
    if (auth.mode === 'legacy') await app.denyList.deny(auth.jti, auth.userId, auth.expiresAt)
    audit(request, { type: 'SESSIONS_REVOKED_ALL', userId: auth.userId, details: { sessions: revoked.sessions.length, families: revoked.families, accessTokens: revoked.accessTokens, scope: 'all' } })
    clearSessionCookie(reply, config)
    return { revoked: revokedCount(revoked) }
  })

  app.post('/api/auth/password', {
    onRequest: requireUser,
    config: routeRateLimit(config, 'login'),
    schema: {
      tags: ['auth'],
      summary: 'Change the password; every other session ends',
      body: PasswordChangeSchema,
      response: { 200: RevokedCountSchema, ...errorReplies(400, 401, 403, 429) }
    }
  }, async request => {
    const auth = authOf(request)
    const { currentPassword, newPassword } = request.body
    const user = await findUserById(app.db.sql, auth.userId)
    if (!user || !(await verifyPassword(user.passwordHash, currentPassword))) {
      audit(request, { type: 'LOGIN_FAILURE', userId: auth.userId, details: { reason: 'bad_current_password' } })
      throw new Errors.AUTH_INVALID_CREDENTIALS()
    }
    const problem = passwordProblem(newPassword, user.email) ?? (newPassword === currentPassword ? 'The new password must differ from the current one' : null)
    if (problem) throw new Errors.AUTH_PASSWORD_REJECTED(problem)
    await updatePasswordHash(app.db.sql, user.id, await hashPassword(newPassword))
    // every other session and every legacy family end; a legacy caller logs in again
    const keep = auth.mode === 'session' ? auth.sessionPublicId : undefined
    const revoked = await revokeEverything(app, user.id, 'password_changed', keep)
    audit(request, { type: 'PASSWORD_CHANGED', userId: user.id, ...(keep ? { sessionPublicId: keep } : {}), details: { sessions: revoked.sessions.length, families: revoked.families } })
    return { revoked: revokedCount(revoked) }
  })
}
