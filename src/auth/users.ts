// The users table (not RLS-scoped: login must find a user before anyone is authenticated).
// A new user and their default portfolio are created in one transaction; the portfolio
// insert runs under the new user's RLS context like any other write to that table.
import type { Queryable, Sql } from '../infra/db.js'
import type { Role } from './context.js'

export interface UserRow {
  id: string
  email: string
  role: Role
  passwordHash: string
  disabledAt: Date | null
  /** bumped by every user-wide revocation; a credential issued under an older one is refused */
  credentialVersion: number
}

export interface PublicUser {
  id: string
  email: string
  role: Role
}

/** a user about to receive credentials: the version is the one this request read */
export interface IssuingUser extends PublicUser {
  credentialVersion: number
}

export const toPublicUser = (u: UserRow | PublicUser): PublicUser => ({ id: u.id, email: u.email, role: u.role })
export const toIssuingUser = (u: UserRow): IssuingUser => ({ ...toPublicUser(u), credentialVersion: u.credentialVersion })

const COLUMNS = 'id, email, role, password_hash as "passwordHash", disabled_at as "disabledAt", credential_version::int as "credentialVersion"'

export async function findUserByEmail (sql: Queryable, email: string): Promise<UserRow | null> {
  const [row] = await sql<UserRow[]>`select ${sql.unsafe(COLUMNS)} from users where lower(email) = ${email.toLowerCase()}`
  return row ?? null
}

export async function findUserById (sql: Queryable, id: string): Promise<UserRow | null> {
  const [row] = await sql<UserRow[]>`select ${sql.unsafe(COLUMNS)} from users where id = ${id}`
  return row ?? null
}

export class EmailTakenError extends Error {}

/** throws EmailTakenError when the email exists (the unique index decides races) */
export async function createUserWithPortfolio (sql: Sql, email: string, passwordHash: string, role: Role = 'user'): Promise<IssuingUser> {
  try {
    return await sql.begin(async tx => {
      const [user] = await tx<IssuingUser[]>`
        insert into users (email, password_hash, role) values (${email}, ${passwordHash}, ${role})
        returning id, email, role, credential_version::int as "credentialVersion"`
      await tx`select set_config('app.user_id', ${user!.id}, true)`
      await tx`insert into portfolios (user_id, name) values (${user!.id}, 'Main')`
      return user!
    }) as IssuingUser
  } catch (err) {
    if ((err as { code?: string }).code === '23505') throw new EmailTakenError(email)
    throw err
  }
}

/** what a user-wide revocation changes on the user row besides the version */
export type CredentialChange =
  | { kind: 'none' }
  | { kind: 'password'; passwordHash: string }
  | { kind: 'disabled'; disabled: boolean }
  | { kind: 'role'; role: Role }

export interface BumpedUser extends PublicUser {
  disabled: boolean
  credentialVersion: number
}

/**
 * Applies the change and bumps the credential version in one UPDATE. The row lock it takes
 * (FOR UPDATE strength) is what a refresh rotation waits on (it reads the row FOR SHARE), so
 * a rotation either commits before this and is swept, or runs after and sees the new version.
 * Enabling an account changes no credential and does not bump. Null when there is no such user.
 */
export async function changeCredentials (sql: Queryable, userId: string, change: CredentialChange): Promise<BumpedUser | null> {
  const bump = !(change.kind === 'disabled' && !change.disabled)
  const set = change.kind === 'password'
    ? sql`password_hash = ${change.passwordHash},`
    : change.kind === 'disabled'
      ? sql`disabled_at = ${change.disabled ? sql`coalesce(disabled_at, now())` : null},`
      : change.kind === 'role' ? sql`role = ${change.role},` : sql``
  const [user] = await sql<BumpedUser[]>`
    update users set ${set}
      credential_version = credential_version + ${bump ? 1 : 0},
      credential_changed_at = ${bump ? sql`now()` : sql`credential_changed_at`},
      updated_at = now()
    where id = ${userId}
    returning id, email, role, disabled_at is not null as disabled, credential_version::int as "credentialVersion"`
  return user ?? null
}
