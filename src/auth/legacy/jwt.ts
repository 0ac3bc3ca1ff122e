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
  nbf?: number
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
  /** the claims (shared by every request with the same token: read-only), or null for any token that must not be accepted */
  verify: (token: string) => Readonly<VerifiedAccess> | null
}

const ROLES = new Set(['user', 'admin'])

// the verified-token cache: as many entries as fast-jwt's was given, and like its default, an
// entry is served for at most 10 minutes even when the token lives longer
const CACHE_MAX = 10_000
const CACHE_TTL_MS = 600_000

interface CachedAccess {
  claims: Readonly<VerifiedAccess>
  /** epoch ms: served from (nbf) until (exp, or the cache TTL), both inclusive as fast-jwt checks them */
  from: number
  until: number
}

export function createLegacyJwt (config: Config['jwt']): LegacyJwt {
  const key = config.accessSecret
  const signer = createSigner({ key, algorithm: 'HS256', iss: config.issuer, aud: config.audience, expiresIn: config.accessTtlMs })
  const verifier = createVerifier({
    key,
    algorithms: ['HS256'],
    allowedIss: config.issuer,
    allowedAud: config.audience,
    requiredClaims: ['sub', 'jti', 'exp', 'iat', 'iss', 'aud'],
    clockTolerance: 0
  })
  // Verified tokens, keyed by the whole token string, so a repeat costs a map lookup, not an
  // HMAC: fast-jwt's own cache first hashed every token with SHA-256, most of what a hit cost.
  // Only a token that passed every check is kept, hence only tokens signed with our secret: its
  // memory is bounded by what we issued (and CACHE_MAX), not by what clients send. A hit is
  // served only inside the token's validity window; the deny list and the credential version
  // are still checked on every request (verify-access.ts).
  const verified = new Map<string, CachedAccess>()
  const remember = (token: string, claims: Readonly<VerifiedAccess>, now: number): void => {
    if (verified.size >= CACHE_MAX) verified.delete(verified.keys().next().value!) // the oldest
    const from = typeof claims.nbf === 'number' ? claims.nbf * 1000 : 0
    verified.set(token, { claims, from, until: Math.min(now + CACHE_TTL_MS, claims.exp * 1000) })
  }

  return {
    sign (user, credentialVersion) {
      const jti = randomUUID()
      const token = signer({ sub: user.id, email: user.email, role: user.role, jti, cv: credentialVersion })
      return { token, jti, expiresAt: Date.now() + config.accessTtlMs }
    },
    verify (token) {
      if (token.length > 4096) return null
      const now = Date.now()
      const hit = verified.get(token)
      if (hit) {
        if (now >= hit.from && now <= hit.until) return hit.claims
        verified.delete(token)
      }
      try {
        const claims = verifier(token) as AccessClaims
        if (typeof claims.sub !== 'string' || typeof claims.jti !== 'string' || !ROLES.has(claims.role)) return null
        const cv = claims.cv ?? 1
        if (!Number.isSafeInteger(cv) || cv < 1) return null
        // frozen: every request that brings this token gets this same object
        const access = Object.freeze({ ...claims, credentialVersion: cv })
        remember(token, access, now)
        return access
      } catch {
        return null
      }
    }
  }
}
