// Legacy refresh tokens in Postgres: 32 random bytes, stored only as SHA-256, grouped in
// families, rotated on every use. Rotation is one UPDATE … WHERE revoked_at IS NULL … RETURNING,
// so of N concurrent refreshes with one token exactly one wins.
//
// Each token carries the user's credential version when it was issued. A rotation first reads
// the user row FOR SHARE; a user-wide revocation bumps the version with an UPDATE of that row
// (a stronger lock) and revokes the families in the same transaction. So either the rotation
// commits first and the revocation, whose later statement sees the replacement row, sweeps it;
// or the revocation commits first and the rotation sees the new version and refuses.
import { createHash, randomBytes } from 'node:crypto'
import type { Queryable } from '../../infra/db.js'
import type { Role } from '../context.js'

export interface RefreshContext {
  device: string
  userAgent: string
  ip: string | null
}

export interface IssuedRefreshToken {
  token: string
  id: string
  familyId: string
  expiresAt: number
}

export interface RotatedFrom {
  id: string
  familyId: string
  userId: string
  email: string
  role: Role
  disabled: boolean
  /** the family's end: a rotated token never outlives the family's first expiry */
  expiresAt: number
  credentialVersion: number
}

export type RotationFailure =
  | { kind: 'invalid' } // unknown, expired, or revoked for another reason
  | { kind: 'race'; familyId: string; userId: string } // rotated within the grace window
  | { kind: 'reuse'; familyId: string; userId: string } // rotated long ago: theft

const hash = (token: string): Buffer => createHash('sha256').update(token).digest()
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/

export async function issueRefreshToken (
  sql: Queryable, userId: string, ctx: RefreshContext, expiresAt: number,
  access: { jti: string; expiresAt: number }, credentialVersion: number, from?: { id: string; familyId: string }
): Promise<IssuedRefreshToken> {
  const token = randomBytes(32).toString('base64url')
  const [row] = await sql<{ id: string; familyId: string }[]>`
    insert into refresh_tokens (token_hash, family_id, user_id, parent_id, expires_at, device, user_agent, ip, access_jti, access_expires_at, credential_version)
    values (${hash(token)}, ${from?.familyId ?? sql`gen_random_uuid()`}, ${userId}, ${from?.id ?? null}, ${new Date(expiresAt)},
            ${ctx.device.slice(0, 100)}, ${ctx.userAgent.slice(0, 512)}, ${ctx.ip}, ${access.jti}, ${new Date(access.expiresAt)}, ${credentialVersion})
    returning id, family_id as "familyId"`
  return { token, id: row!.id, familyId: row!.familyId, expiresAt }
}

/**
 * Marks the token rotated if it is live and issued under the user's current credential
 * version, and returns what it belonged to. Otherwise says why not: within `graceMs` of its
 * rotation it is a client's own parallel refresh; after that it is reuse of a stolen token.
 * Must run in a transaction (`sql` is its handle): the shared lock on the user row is held
 * until the replacement is committed.
 */
export async function rotateRefreshToken (sql: Queryable, token: string, graceMs: number): Promise<RotatedFrom | RotationFailure> {
  if (!TOKEN_PATTERN.test(token)) return { kind: 'invalid' }
  const [owner] = await sql<{ userId: string }[]>`select user_id as "userId" from refresh_tokens where token_hash = ${hash(token)}`
  if (!owner) return { kind: 'invalid' }
  // serialise with a user-wide revocation (it updates this row): see the header
  await sql`select 1 from users where id = ${owner.userId} for share`
  const [won] = await sql<(Omit<RotatedFrom, 'expiresAt' | 'disabled'> & { expiresAt: Date; disabled: boolean })[]>`
    update refresh_tokens r set revoked_at = now(), rotated_at = now(), revoked_reason = 'rotated'
    from users u
    where r.token_hash = ${hash(token)} and r.revoked_at is null and r.expires_at > now() and u.id = r.user_id
      and r.credential_version = u.credential_version
    returning r.id, r.family_id as "familyId", r.user_id as "userId", u.email, u.role,
              r.expires_at as "expiresAt", u.disabled_at is not null as disabled, u.credential_version::int as "credentialVersion"`
  if (won) return { ...won, expiresAt: won.expiresAt.getTime() }

  const [seen] = await sql<{ familyId: string; userId: string; reason: string | null; withinGrace: boolean }[]>`
    select family_id as "familyId", user_id as "userId", revoked_reason as reason,
           rotated_at > now() - make_interval(secs => ${graceMs / 1000}) as "withinGrace"
    from refresh_tokens where token_hash = ${hash(token)}`
  if (!seen || seen.reason !== 'rotated') return { kind: 'invalid' }
  return { kind: seen.withinGrace ? 'race' : 'reuse', familyId: seen.familyId, userId: seen.userId }
}

export async function linkReplacement (sql: Queryable, oldId: string, newId: string): Promise<void> {
  await sql`update refresh_tokens set replaced_by = ${newId} where id = ${oldId}`
}

export interface LiveAccessToken { jti: string; userId: string; expiresAt: number }

/** revokes the family's live tokens; returns the access tokens issued with any of them that still live */
export async function revokeFamily (sql: Queryable, familyId: string, reason: string): Promise<LiveAccessToken[]> {
  await sql`update refresh_tokens set revoked_at = now(), revoked_reason = ${reason} where family_id = ${familyId} and revoked_at is null`
  return liveAccessTokens(sql, sql`family_id = ${familyId}`)
}

/** revokes every live family of the user; returns their live access tokens */
export async function revokeUserFamilies (sql: Queryable, userId: string, reason: string): Promise<{ families: number; access: LiveAccessToken[] }> {
  const families = await sql`update refresh_tokens set revoked_at = now(), revoked_reason = ${reason}
                             where user_id = ${userId} and revoked_at is null and expires_at > now() returning family_id`
  const access = await liveAccessTokens(sql, sql`user_id = ${userId}`)
  return { families: new Set(families.map(f => f.family_id)).size, access }
}

/** the family an access token was issued with */
export async function familyOfAccessToken (sql: Queryable, jti: string): Promise<string | null> {
  const [row] = await sql<{ familyId: string }[]>`select family_id as "familyId" from refresh_tokens where access_jti = ${jti} limit 1`
  return row?.familyId ?? null
}

async function liveAccessTokens (sql: Queryable, where: ReturnType<Queryable>): Promise<LiveAccessToken[]> {
  const rows = await sql<{ jti: string; userId: string; expiresAt: Date }[]>`
    select access_jti as jti, user_id as "userId", access_expires_at as "expiresAt"
    from refresh_tokens where ${where} and access_jti is not null and access_expires_at > now()`
  return rows.map(r => ({ jti: r.jti, userId: r.userId, expiresAt: r.expiresAt.getTime() }))
}
