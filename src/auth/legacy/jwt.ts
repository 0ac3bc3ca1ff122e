// Legacy access tokens: HS256 with the algorithm pinned, iss/aud/exp checked, a jti in every
// token. fast-jwt refuses `alg: none`, any other algorithm, bad signatures, wrong iss or aud,
// expired and not-yet-valid tokens; requiredClaims refuses a token without jti, sub, exp, iss
// or aud (fast-jwt checks iss/aud only when present: a token without them would pass
// allowedIss/allowedAud). `cv` is the user's credential version when the token was minted: the
// authenticate hook refuses it once the version moved. Tokens from before versions existed
// carry none and count as version 1, the version every user started with.
import { randomUUID } from 'node:crypto'
import { createSigner, createVerifier } from 'fast-jwt'
import type { Config } from '../../config/config.js'
import type { Role } from '../context.js'

interface AccessClaims {
  sub: string
  email: string
  role: Role
  jti: string
  iat: number
  exp: number
  iss: string
  aud: string
  cv?: number
}

interface VerifiedAccess extends AccessClaims {
  credentialVersion: number
}

interface IssuedAccessToken {
  token: string
  jti: string
  /** epoch ms */
  expiresAt: number
}

export interface LegacyJwt {
  sign: (user: { id: string; email: string; role: Role }, credentialVersion: number) => IssuedAccessToken
  /** the claims, or null for any token that must not be accepted */
  verify: (token: string) => VerifiedAccess | null
}

const ROLES = new Set(['user', 'admin'])

export function createLegacyJwt (config: Config['jwt']): LegacyJwt {
  const key = config.accessSecret
  const signer = createSigner({ key, algorithm: 'HS256', iss: config.issuer, aud: config.audience, expiresIn: config.accessTtlMs })
  const verifier = createVerifier({
    key,
    algorithms: ['HS256'],
    allowedIss: config.issuer,
    allowedAud: config.audience,
    requiredClaims: ['sub', 'jti', 'exp', 'iat', 'iss', 'aud'],
    clockTolerance: 0,
    // verified tokens are cached (by the whole token, until exp), so a repeat costs no HMAC;
    // the deny list is still checked on every request
    cache: 10_000
  })

  return {
    sign (user, credentialVersion) {
      const jti = randomUUID()
      const token = signer({ sub: user.id, email: user.email, role: user.role, jti, cv: credentialVersion })
      return { token, jti, expiresAt: Date.now() + config.accessTtlMs }
    },
    verify (token) {
      if (token.length > 4096) return null
      try {
        const claims = verifier(token) as AccessClaims
        if (typeof claims.sub !== 'string' || typeof claims.jti !== 'string' || !ROLES.has(claims.role)) return null
        const cv = claims.cv ?? 1
        if (!Number.isSafeInteger(cv) || cv < 1) return null
        return { ...claims, credentialVersion: cv }
      } catch {
        return null
      }
    }
  }
}
