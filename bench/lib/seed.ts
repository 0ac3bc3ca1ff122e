// Seeds what our server reads, fast and through its own code: users straight into Postgres
// sharing ONE argon2id hash (made with the server's parameters), sessions through the
// server's session store (same prefix, timeouts and limit), access tokens through its signer.
// Ten thousand logins through argon2 would take minutes; this takes seconds.
import type postgres from 'postgres'
import type { Redis } from 'ioredis'
import type { Config } from '../../src/config/config.js'
import { hashPassword } from '../../src/auth/passwords/hash.js'
import { createSessionStore, type SessionStore } from '../../src/auth/sessions/store.js'
import type { CreatedSession } from '../../src/auth/sessions/types.js'
import { createLegacyJwt } from '../../src/auth/legacy/jwt.js'
import { describeDevice } from '../../src/auth/sessions/device.js'
import { BENCH_IP, PASSWORD, USER_AGENT } from './bench-env.js'

export interface SeededUser { id: string; email: string }

const SESSION_USERS = 100
const SESSIONS_PER_USER = 100
export const PORTFOLIOS_PER_USER = 3
export const REVOCATION_USERS = 20

export interface Seed {
  passwordHash: string
  sessionUsers: SeededUser[]
  /** cookie values (`<tag>.<secret>`), SESSION_USERS × SESSIONS_PER_USER of them */
  sessionTokens: string[]
  /** the user of each token, same order */
  sessionTokenUsers: SeededUser[]
  /** the cold-cache set: sessions of other users, then the session tokens; all distinct */
  coldTokens: string[]
  /** legacy access JWTs for the same users, as many as the session tokens */
  bearerTokens: string[]
  loginEmails: string[]
  revocationUsers: SeededUser[]
}

export function benchStore (redis: Redis, config: Config): SessionStore {
  return createSessionStore(redis, {
    keyPrefix: config.redis.keyPrefix,
    idleTimeoutMs: config.session.idleTimeoutMs,
    absoluteTimeoutMs: config.session.absoluteTimeoutMs,
    touchIntervalMs: config.session.touchIntervalMs,
    maxPerUser: config.session.maxPerUser
  })
}

async function insertUsers (sql: postgres.Sql, tag: string, count: number, passwordHash: string): Promise<SeededUser[]> {
  const rows = await sql<(SeededUser & { n: number })[]>`
    insert into users (email, password_hash)
    select ${tag} || '-' || g || '@bench.test', ${passwordHash} from generate_series(1, ${count}::int) g
    returning id, email, split_part(split_part(email, '@', 1), '-', 3)::int as n`
  return rows.sort((a, b) => a.n - b.n).map(r => ({ id: r.id, email: r.email }))
}

/** `perUser` sessions of each user, created with the bench's IP and agent */
export async function createSessions (store: SessionStore, users: readonly SeededUser[], perUser: number): Promise<{ user: SeededUser; session: CreatedSession }[]> {
  const device = describeDevice(USER_AGENT)
  const jobs: SeededUser[] = []
  for (let i = 0; i < perUser; i++) jobs.push(...users)
  const out: { user: SeededUser; session: CreatedSession }[] = []
  // a few hundred scripts in flight at once: ioredis pipelines them on one connection
  for (let i = 0; i < jobs.length; i += 500) {
    const batch = jobs.slice(i, i + 500)
    const created = await Promise.all(batch.map(user => store.create({
      userId: user.id, email: user.email, role: 'user', ip: BENCH_IP, userAgent: USER_AGENT, device, credentialVersion: 1
    })))
    created.forEach((session, k) => { if (session) out.push({ user: batch[k]!, session }) })
  }
  return out
}

/** the cold set's extra users have few sessions each, so creating them stays cheap in Redis */
const COLD_SESSIONS_PER_USER = 10

export async function seed (sql: postgres.Sql, redis: Redis, config: Config, loginUsers: number, coldSessions: number): Promise<Seed> {
  const passwordHash = await hashPassword(PASSWORD)
  const sessionUsers = await insertUsers(sql, 'bench-s', SESSION_USERS, passwordHash)
  const loginEmails = (await insertUsers(sql, 'bench-l', loginUsers, passwordHash)).map(u => u.email)
  const revocationUsers = await insertUsers(sql, 'bench-r', REVOCATION_USERS, passwordHash)

  // the owner's connection (a superuser) is not bound by RLS, so it can write any user's rows
  await sql`
    insert into portfolios (user_id, name)
    select u.id, 'Portfolio ' || g from unnest(${sql.array(sessionUsers.map(u => u.id))}::uuid[]) as u(id), generate_series(1, ${PORTFOLIOS_PER_USER}::int) g`

  const store = benchStore(redis, config)
  const created = await createSessions(store, sessionUsers, SESSIONS_PER_USER)
  const coldUsers = await insertUsers(sql, 'bench-c', Math.max(0, Math.ceil((coldSessions - created.length) / COLD_SESSIONS_PER_USER)), passwordHash)
  const coldExtra = coldUsers.length ? await createSessions(store, coldUsers, COLD_SESSIONS_PER_USER) : []
  const jwt = createLegacyJwt(config.jwt)
  return {
    passwordHash,
    sessionUsers,
    sessionTokens: created.map(c => c.session.token),
    sessionTokenUsers: created.map(c => c.user),
    // the other users' sessions first: the cold run does not begin with the 1,000-active set
    coldTokens: [...coldExtra, ...created].map(c => c.session.token).slice(0, coldSessions),
    bearerTokens: created.map(c => jwt.sign({ id: c.user.id, email: c.user.email, role: 'user' }, 1).token),
    loginEmails,
    revocationUsers
  }
}
