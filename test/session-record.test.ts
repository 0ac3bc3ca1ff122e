// The session as Redis holds it: one string record, read with the user's credential version by
// one MGET per validation; the scripts (touch, revoke, list) rewrite only what they must; sessions
// that an earlier build stored as hashes keep working through an upgrade, and
// SESSION_RECORD_FORMAT=hash writes that form for a rolling upgrade.
import t from 'tap'
import { hash } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import { build, delay, testEnv, uniquePrefix, waitFor } from './helper.js'
import { browser, me, PASSWORD, register, UA_FIREFOX, type LoggedIn } from './auth-helper.js'
import { decodeRecord, recordTail, RECORD_SEPARATOR } from '../src/auth/sessions/redis-record.js'
import { parseConfig, ConfigError } from '../src/config/config.js'

const keyOf = (app: FastifyInstance, token: string): string => {
  const [tag, secret] = token.split('.') as [string, string]
  return `${app.config.redis.keyPrefix}{${tag}}:s:${hash('sha256', secret, 'base64url')}`
}

/** every command Redis runs on a key under `prefix`, while `fn` runs (MONITOR on its own connection) */
async function commandsOn (app: FastifyInstance, prefix: string, fn: () => Promise<void>): Promise<string[][]> {
  const client = app.redis as Redis
  const monitor = await client.monitor()
  const seen: string[][] = []
  monitor.on('monitor', (_time: string, args: string[]) => { if (args.some(a => a.startsWith(prefix))) seen.push(args) })
  try {
    await fn()
    // MONITOR streams asynchronously: a marker command shows everything before it has arrived
    const marker = `${prefix}monitor-marker`
    await client.exists(marker)
    await waitFor(() => seen.some(args => args.includes(marker)), { what: 'the marker command' })
  } finally {
    monitor.disconnect()
  }
  return seen.filter(args => !args.some(a => a.endsWith('monitor-marker')))
}

const sessionsOf = async (app: FastifyInstance, user: LoggedIn): Promise<{ id: string; current: boolean }[]> =>
  (await app.inject({ method: 'GET', url: '/api/auth/sessions', headers: browser(user.cookie) })).json().sessions

t.test('a session is one string record; a validation reads it with one MGET and nothing else', async t => {
  const app = await build(t, { SESSION_CACHE_TTL: '0', SESSION_TOUCH_INTERVAL: '60s' })
  const user = await register(app)
  const redis = app.redis as Redis
  const key = keyOf(app, user.token)
  t.equal(await redis.type(key), 'string')
  const raw = (await redis.get(key))!
  t.notOk(raw.includes(user.token.split('.')[1]!), 'the record holds no secret')
  const record = decodeRecord(raw)!
  const [listed] = await sessionsOf(app, user)
  t.match(record, { userId: user.userId, email: user.email, role: 'user', publicId: listed!.id, userAgent: UA_FIREFOX, device: { browser: 'Firefox', os: 'Linux' }, credentialVersion: 1 })
  t.ok(record.idleExpiresAt > record.lastSeenAt && record.absoluteExpiresAt >= record.idleExpiresAt, 'its times are in order')
  t.ok(Math.abs(await redis.pexpiretime(key) - record.idleExpiresAt) <= 1, 'Redis expires it at its idle expiry')

  const commands = await commandsOn(app, app.config.redis.keyPrefix, async () => {
    for (let i = 0; i < 3; i++) t.equal((await me(app, user.cookie)).statusCode, 200)
  })
  t.same(commands.map(c => c[0]!.toLowerCase()), ['mget', 'mget', 'mget'], 'three validations, three MGETs, no script')
  t.same(commands[0]!.slice(1), [key, `${app.config.redis.keyPrefix}{${user.token.split('.')[0]}}:cv`], 'of the record and the user\'s credential version')
})

t.test('the touch rewrites only the last-seen time and the idle expiry, and moves the key\'s expiry with them', async t => {
  const app = await build(t, { SESSION_CACHE_TTL: '0', SESSION_TOUCH_INTERVAL: '1', SESSION_IDLE_TIMEOUT: '1h' })
  const user = await register(app)
  const redis = app.redis as Redis
  const key = keyOf(app, user.token)
  const before = decodeRecord((await redis.get(key))!)!
  await delay(1100)
  t.equal((await me(app, user.cookie)).statusCode, 200)
  const after = decodeRecord((await redis.get(key))!)!
  t.ok(after.lastSeenAt > before.lastSeenAt, 'seen moved')
  t.equal(after.idleExpiresAt, after.lastSeenAt + 3_600_000, 'idle = seen + the idle timeout')
  t.same({ ...after, lastSeenAt: 0, idleExpiresAt: 0 }, { ...before, lastSeenAt: 0, idleExpiresAt: 0 }, 'nothing else changed')
  t.ok(Math.abs(await redis.pexpiretime(key) - after.idleExpiresAt) <= 1, 'the key expires at the new idle expiry')
})

t.test('a password change moves the kept session to the new credential version, keeping its expiry', async t => {
  const app = await build(t, { SESSION_CACHE_TTL: '0' })
  const user = await register(app)
  const redis = app.redis as Redis
  const key = keyOf(app, user.token)
  const expiry = await redis.pexpiretime(key)
  const res = await app.inject({ method: 'POST', url: '/api/auth/password', headers: browser(user.cookie), payload: { currentPassword: PASSWORD, newPassword: 'a brand new passphrase 77' } })
  t.equal(res.statusCode, 200, res.body)
  const record = decodeRecord((await redis.get(key))!)!
  t.equal(record.credentialVersion, 2, 'the record carries the bumped version')
  t.equal(await redis.pexpiretime(key), expiry, 'and the same expiry')
  t.equal((await me(app, user.cookie)).statusCode, 200, 'the session that changed the password lives on')
})

t.test('a record that is not of the layout is no session: 401, the cookie cleared, nothing written', async t => {
  const app = await build(t, { SESSION_CACHE_TTL: '0' })
  const user = await register(app)
  const redis = app.redis as Redis
  const key = keyOf(app, user.token)
  const raw = (await redis.get(key))!
  const broken = [raw.replace(/^1/, '9'), raw.split(RECORD_SEPARATOR).slice(0, 14).join(RECORD_SEPARATOR), ['1', 'soon', ...raw.split(RECORD_SEPARATOR).slice(2)].join(RECORD_SEPARATOR)]
  for (const value of broken) {
    await redis.set(key, value, 'KEEPTTL')
    const res = await me(app, user.cookie)
    t.equal(res.statusCode, 401)
    t.equal(res.json().code, 'SESSION_EXPIRED')
    t.equal(await redis.get(key), value, 'the record is left as it was')
  }
})

t.test('the separator never reaches a field: it is stripped on the way in, so a split is exact', async t => {
  const tail = recordTail({ userId: 'u', role: 'user', publicId: 'p', ip: '1.2.3.4', email: 'a\x1fb@example.com', device: { browser: 'B\x1f', os: 'O', type: 'T' }, userAgent: 'agent\x1fwith\x1fseparators' })
  const record = decodeRecord(['1', '10', '20', '30', '5', '3', tail].join(RECORD_SEPARATOR))!
  t.match(record, { lastSeenAt: 10, idleExpiresAt: 20, absoluteExpiresAt: 30, createdAt: 5, credentialVersion: 3, userId: 'u', email: 'ab@example.com', device: { browser: 'B', os: 'O', type: 'T' }, userAgent: 'agentwithseparators' })
})

t.test('SESSION_RECORD_FORMAT is string or hash; anything else is refused by name', async t => {
  t.equal(parseConfig(testEnv()).config.session.recordFormat, 'string', 'string by default')
  t.equal(parseConfig(testEnv({ SESSION_RECORD_FORMAT: 'hash' })).config.session.recordFormat, 'hash')
  let refused: unknown = null
  try { parseConfig(testEnv({ SESSION_RECORD_FORMAT: 'json' })) } catch (err) { refused = err }
  t.ok(refused instanceof ConfigError, 'a configuration error')
  t.ok((refused as ConfigError).problems.some(p => p.startsWith('SESSION_RECORD_FORMAT: ')), 'that names the variable')
})

t.test('a rolling upgrade: sessions written as hashes (as earlier builds did) validate, slide, list and end on this build', async t => {
  // one Redis prefix, two instances: one writing the earlier form, one this build's
  const prefix = uniquePrefix()
  const old = await build(t, { REDIS_KEY_PREFIX: prefix, SESSION_RECORD_FORMAT: 'hash', SESSION_CACHE_TTL: '0' })
  const app = await build(t, { REDIS_KEY_PREFIX: prefix, SESSION_CACHE_TTL: '0', SESSION_TOUCH_INTERVAL: '1' })
  const redis = app.redis as Redis
  const user = await register(old)
  const key = keyOf(app, user.token)
  t.equal(await redis.type(key), 'hash')
  t.same(Object.keys(await redis.hgetall(key)).sort(), ['abs', 'cre', 'cv', 'dev', 'em', 'idle', 'ip', 'pid', 'role', 'seen', 'ua', 'uid'], 'the fields an earlier build reads')

  const res = await me(app, user.cookie)
  t.equal(res.statusCode, 200, 'this build accepts it')
  t.equal(res.json().user.email, user.email)
  const [listed] = await sessionsOf(app, user)
  t.match(listed, { current: true, device: { browser: 'Firefox' } }, 'and lists it')

  const seenBefore = Number(await redis.hget(key, 'seen'))
  await delay(1100)
  t.equal((await me(app, user.cookie)).statusCode, 200)
  t.ok(Number(await redis.hget(key, 'seen')) > seenBefore, 'the touch slides it')
  t.equal(await redis.type(key), 'hash', 'in the form it was written in, which the earlier build still reads')

  const change = await app.inject({ method: 'POST', url: '/api/auth/password', headers: browser(user.cookie), payload: { currentPassword: PASSWORD, newPassword: 'a brand new passphrase 77' } })
  t.equal(change.statusCode, 200, change.body)
  t.equal(await redis.hget(key, 'cv'), '2', 'a user-wide revocation moves the kept hash session to the new version')
  t.equal((await me(old, user.cookie)).statusCode, 200, 'and on the instance that writes hashes')

  const out = await app.inject({ method: 'POST', url: '/api/auth/logout', headers: browser(user.cookie) })
  t.equal(out.statusCode, 204)
  t.equal(await redis.exists(key), 0, 'logout removes it')
  t.equal((await me(app, user.cookie)).statusCode, 401)
  t.equal((await me(old, user.cookie)).statusCode, 401)
})
