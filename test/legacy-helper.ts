// Legacy clients: log in while the rollout sends the user to JWTs, and hand-made tokens for
// the refusal tests.
import { createHmac, randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { TEST_JWT_SECRET } from './helper.js'
import { PASSWORD } from './auth-helper.js'

export interface LegacyLogin { userId: string; accessToken: string; refreshToken: string }

export async function legacyLogin (app: FastifyInstance, email: string, password = PASSWORD): Promise<LegacyLogin> {
  // no Origin: a mobile client, not a browser
  const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password } })
  const body = res.json()
  if (res.statusCode !== 200 || body.auth.mode !== 'legacy') throw new Error(`expected a legacy login: ${res.statusCode} ${res.body}`)
  return { userId: body.user.id, accessToken: body.auth.accessToken, refreshToken: body.auth.refreshToken }
}

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })

export const refresh = (app: FastifyInstance, refreshToken: string) =>
  app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken } })

const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url')

/** a JWT signed by hand: any header, any claims, any secret */
export function handMadeJwt (claims: Record<string, unknown>, opts: { alg?: string; secret?: string; sign?: boolean } = {}): string {
  const header = { alg: opts.alg ?? 'HS256', typ: 'JWT' }
  const unsigned = `${b64(header)}.${b64(claims)}`
  if (opts.sign === false) return `${unsigned}.`
  const sig = createHmac(opts.alg === 'HS512' ? 'sha512' : 'sha256', opts.secret ?? TEST_JWT_SECRET).update(unsigned).digest('base64url')
  return `${unsigned}.${sig}`
}

export function validClaims (userId: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000)
  return { sub: userId, email: 'x@example.test', role: 'user', jti: randomUUID(), iat: now, exp: now + 600, iss: 'hallpass', aud: 'hallpass-api', ...overrides }
}
