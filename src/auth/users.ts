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
}

export interface PublicUser {
  id: string
  email: string
  role: Role
}

export const toPublicUser = (u: UserRow | PublicUser): PublicUser => ({ id: u.id, email: u.email, role: u.role })

const COLUMNS = 'id, email, role, password_hash as "passwordHash", disabled_at as "disabledAt"'

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
export async function createUserWithPortfolio (sql: Sql, email: string, passwordHash: string, role: Role = 'user'): Promise<PublicUser> {
  try {
    return await sql.begin(async tx => {
      const [user] = await tx<PublicUser[]>`
        insert into users (email, password_hash, role) values (${email}, ${passwordHash}, ${role})
        returning id, email, role`
      await tx`select set_config('app.user_id', ${user!.id}, true)`
      await tx`insert into portfolios (user_id, name) values (${user!.id}, 'Main')`
      return user!
    }) as PublicUser
  } catch (err) {
    if ((err as { code?: string }).code === '23505') throw new EmailTakenError(email)
    throw err
  }
}

export async function updatePasswordHash (sql: Queryable, userId: string, passwordHash: string): Promise<void> {
  await sql`update users set password_hash = ${passwordHash}, updated_at = now() where id = ${userId}`
}

/** the user, or null when there is none */
export async function setUserDisabled (sql: Queryable, userId: string, disabled: boolean): Promise<PublicUser | null> {
  const [user] = await sql<PublicUser[]>`
    update users set disabled_at = ${disabled ? sql`now()` : null}, updated_at = now()
    where id = ${userId} returning id, email, role`
  return user ?? null
}
