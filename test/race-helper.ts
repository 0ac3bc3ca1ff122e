// Shared by the race-*.test.ts files. Revocation that nothing slips past, tried as an attacker would: two instances sharing Redis
// and Postgres, a login (or a refresh loop) in flight on one while the other revokes. Each race
// runs 30 rounds with the timing varied; a survivor is a credential that still works once the
// revocation has answered although the request that got it was sent before the revocation was
// and read the user before the revocation committed (its credential version is older than the
// user's version afterwards). After a logout-all the password still works, so a login whose read
// came after the commit is rightly honoured; after a password change or a disable no such login
// succeeds at all. Expected: zero.
import { decodeRecord } from '../src/auth/sessions/redis-record.js'
import { createHash } from 'node:crypto'
import type { Test } from 'tap'
import type { Redis } from 'ioredis'
import type { FastifyInstance } from 'fastify'
import { adminSql, build, uniqueEmail, uniquePrefix } from './helper.js'
import { browser, me, ORIGIN, PASSWORD } from './auth-helper.js'
import { bearer, refresh } from './legacy-helper.js'

const ROUNDS = 30
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

// nothing but the race decides: no per-IP limit, no account backoff, no eviction
const RACE_ENV = { LOGIN_BACKOFF_THRESHOLD: '1000', RATE_LIMIT_LOGIN: '100000/1m', RATE_LIMIT_REFRESH: '100000/1m', MAX_SESSIONS_PER_USER: '1000' }

export type Mode = 'session' | 'legacy'
export type Revocation = 'password' | 'disable' | 'logout-all'

interface Pair { a: FastifyInstance; b: FastifyInstance }

async function twoInstances (t: Test, mode: Mode): Promise<Pair> {
  const env = { ...RACE_ENV, REDIS_KEY_PREFIX: uniquePrefix(), NEW_AUTH_PERCENTAGE: mode === 'legacy' ? '0' : '100' }
  return { a: await build(t, env), b: await build(t, env) }
}

/** logs in without a browser Origin, so both modes answer; returns what a client would keep */
async function attempt (app: FastifyInstance, email: string, password: string): Promise<{ cookie?: string; access?: string; refresh?: string } | null> {
  const res = await app.inject({ method: 'POST', url: '/api/auth/login', headers: { origin: ORIGIN }, payload: { email, password } })
  if (res.statusCode !== 200) return null
  const body = res.json()
  if (body.auth.mode === 'legacy') return { access: body.auth.accessToken, refresh: body.auth.refreshToken }
  const cookie = [res.headers['set-cookie']].flat().find(c => c?.startsWith('sid='))
  return { cookie: cookie!.split(';')[0]! }
}

/** does any part of this credential still work, on either instance? */
async function stillWorks ({ a, b }: Pair, c: { cookie?: string; access?: string; refresh?: string }): Promise<boolean> {
  for (const app of [a, b]) {
    if (c.cookie && (await me(app, c.cookie)).statusCode === 200) return true
    if (c.access && (await app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(c.access) })).statusCode === 200) return true
  }
  if (c.refresh && (await refresh(b, c.refresh)).statusCode === 200) return true
  return false
}

/**
 * the credential version a credential was issued under: the session record's cv, or the access
 * token's `cv` claim; 0 when it carries none (issued by code without versions)
 */
async function versionOf (app: FastifyInstance, c: { cookie?: string; access?: string }): Promise<number> {
  if (c.access) return Number(JSON.parse(Buffer.from(c.access.split('.')[1]!, 'base64url').toString()).cv ?? 0)
  const token = c.cookie!.split('=')[1]!
  const [tag, secret] = token.split('.') as [string, string]
  const key = `${app.config.redis.keyPrefix}{${tag}}:s:${createHash('sha256').update(secret).digest('base64url')}`
  return decodeRecord(await (app.redis as Redis).get(key) ?? '')?.credentialVersion ?? 0
}

async function registerUser (app: FastifyInstance, email: string): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/api/auth/register', headers: { origin: ORIGIN }, payload: { email, password: PASSWORD } })
  if (res.statusCode !== 201) throw new Error(`register: ${res.statusCode} ${res.body}`)
  return res.json().user.id
}

/** the victim's own credential on B, for the routes that need one */
async function victimAuth (b: FastifyInstance, email: string, password: string): Promise<Record<string, string>> {
  const c = await attempt(b, email, password)
  if (!c) throw new Error('victim login failed')
  return c.cookie ? browser(c.cookie) : bearer(c.access!)
}

export async function loginRace (t: Test, mode: Mode, kind: Revocation): Promise<void> {
  const pair = await twoInstances(t, mode)
  const { a, b } = pair
  const email = uniqueEmail(`race-${kind}`)
  const userId = await registerUser(a, email)
  let password = PASSWORD
  let adminHeaders: Record<string, string> = {}
  if (kind === 'disable') {
    const adminEmail = uniqueEmail('race-admin')
    const adminId = await registerUser(b, adminEmail)
    await adminSql(t)`update users set role = 'admin' where id = ${adminId}`
    adminHeaders = await victimAuth(b, adminEmail, PASSWORD)
  }

  let survivors = 0
  let issued = 0
  for (let round = 0; round < ROUNDS; round++) {
    const victim = kind === 'disable' ? adminHeaders : await victimAuth(b, email, password)
    const next = `${PASSWORD} round ${round}`
    const revokeAfter = (round * 11) % 70 // the attacker's login takes 20–100 ms of argon2
    let revocationSentAt = Infinity
    const attacks = [0, (round * 7) % 45, (round * 17) % 90].map(async delay => {
      await sleep(delay)
      const sentAt = performance.now()
      const c = await attempt(a, email, password)
      return c && { ...c, inFlight: sentAt < revocationSentAt }
    })
    const revocation = (async () => {
      await sleep(revokeAfter)
      revocationSentAt = performance.now()
      const res = kind === 'password'
        ? await b.inject({ method: 'POST', url: '/api/auth/password', headers: victim, payload: { currentPassword: password, newPassword: next } })
        : kind === 'disable'
          ? await b.inject({ method: 'POST', url: `/api/admin/users/${userId}/disable`, headers: adminHeaders })
          : await b.inject({ method: 'POST', url: '/api/auth/logout-all', headers: victim })
      if (res.statusCode !== 200) throw new Error(`${kind}: ${res.statusCode} ${res.body}`)
    })()
    const [credentials] = await Promise.all([Promise.all(attacks), revocation])
    // (read through to_jsonb so the same test also runs against a schema without versions)
    const [{ version }] = await adminSql(t)<[{ version: number }]>`
      select coalesce((to_jsonb(u)->>'credential_version')::int, 1) as version from users u where id = ${userId}`
    for (const c of credentials) {
      if (!c?.inFlight) continue
      // read before the commit: its version is older (a login that read after it is a new login)
      if (await versionOf(a, c) >= version) continue
      issued++
      if (await stillWorks(pair, c)) survivors++
    }
    if (kind === 'password') password = next
    if (kind === 'disable') {
      const res = await b.inject({ method: 'POST', url: `/api/admin/users/${userId}/enable`, headers: adminHeaders })
      if (res.statusCode !== 200) throw new Error(`enable: ${res.statusCode}`)
    }
  }
  t.comment(`${mode} login vs ${kind}: ${issued} logins sent before the revocation succeeded in ${ROUNDS} rounds, ${survivors} survived`)
  t.ok(issued > 0, 'some logins sent before the revocation were issued credentials')
  t.equal(survivors, 0, 'no credential issued before or during the revocation still works')
}

export async function refreshRace (t: Test, kind: 'password' | 'logout-all'): Promise<void> {
  const pair = await twoInstances(t, 'legacy')
  const { a, b } = pair
  const email = uniqueEmail(`refresh-${kind}`)
  await registerUser(a, email)
  let password = PASSWORD
  let survivors = 0
  let rotations = 0
  for (let round = 0; round < ROUNDS; round++) {
    const first = await attempt(a, email, password)
    const victim = await victimAuth(b, email, password)
    let held = { refresh: first!.refresh!, access: first!.access! }
    let revoked = false
    // the client keeps rotating until refused; rotations after the revocation answered count too
    const loop = (async () => {
      for (let i = 0; i < 200; i++) {
        const res = await refresh(a, held.refresh)
        if (res.statusCode !== 200) return
        rotations++
        held = { refresh: res.json().auth.refreshToken, access: res.json().auth.accessToken }
        if (revoked) await sleep(1)
      }
    })()
    const next = `${PASSWORD} r${round}`
    await sleep((round * 3) % 25)
    const res = kind === 'password'
      ? await b.inject({ method: 'POST', url: '/api/auth/password', headers: victim, payload: { currentPassword: password, newPassword: next } })
      : await b.inject({ method: 'POST', url: '/api/auth/logout-all', headers: victim })
    t.equal(res.statusCode, 200, `round ${round}: ${kind} answered`)
    revoked = true
    await loop
    if (kind === 'password') password = next
    if (await stillWorks(pair, held)) survivors++
  }
  t.comment(`refresh loop vs ${kind}: ${rotations} rotations in ${ROUNDS} rounds, ${survivors} families survived`)
  t.ok(rotations > 0, 'the loop rotated')
  t.equal(survivors, 0, 'no rotating family outlives the revocation')
}
