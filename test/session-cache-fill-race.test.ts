// A revocation that reaches instance B while B's validation of that very session is between its
// Redis read and its cache fill must not be lost: the fill is dropped, the session refused.
// The window is widened by holding back the reply of B's validate script (the script itself
// runs in Redis at once, as it would); the revocation on A lands inside it at varied offsets.
import t from 'tap'
import { build, uniquePrefix } from './helper.js'
import { browser, login, me, register } from './auth-helper.js'

const ROUNDS = 30
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

type Validate = (...args: (string | number)[]) => Promise<unknown>

t.test('a revocation racing a cache fill: 30 rounds, no revoked session served from the cache', async t => {
  const prefix = uniquePrefix()
  const env = { REDIS_KEY_PREFIX: prefix, SESSION_CACHE_TTL: '30s', MAX_SESSIONS_PER_USER: '1000', LOGIN_BACKOFF_THRESHOLD: '1000', RATE_LIMIT_LOGIN: '100000/1m' }
  const a = await build(t, env)
  const b = await build(t, env)
  for (let i = 0; i < 100 && !(a.sessionCache?.active && b.sessionCache?.active); i++) await sleep(20)
  t.ok(b.sessionCache?.active, 'B subscribed')

  // B's validate script: executed in Redis at once, its answer delivered `holdMs` later
  const scripts = b.redis as unknown as { hpSessionValidate: Validate }
  const original = scripts.hpSessionValidate.bind(b.redis)
  let holdMs = 0
  scripts.hpSessionValidate = async (...args) => {
    const reply = await original(...args)
    if (holdMs > 0) await sleep(holdMs)
    return reply
  }

  const owner = await register(a)
  let survivors = 0
  let revokedInWindow = 0
  for (let round = 0; round < ROUNDS; round++) {
    const victim = await login(a, owner.email)
    const publicId = (await a.inject({ method: 'GET', url: '/api/auth/sessions', headers: browser(victim.cookie) })).json()
      .sessions.find((s: { current: boolean }) => s.current).id
    holdMs = 10 + (round % 6) * 5
    const offset = (round * 7) % holdMs // revoke somewhere inside the held window
    const read = me(b, victim.cookie)
    await sleep(offset)
    const revoke = await a.inject({ method: 'DELETE', url: `/api/auth/sessions/${publicId}`, headers: browser(owner.cookie) })
    if (revoke.statusCode !== 204) throw new Error(`revoke: ${revoke.statusCode}`)
    if ((await read).statusCode === 200) revokedInWindow++ // B's read saw it live: the fill is the danger
    holdMs = 0
    // give B's subscriber time to have heard the message, as it would well before the TTL
    for (let i = 0; i < 5; i++) await new Promise(resolve => setImmediate(resolve))
    await sleep(20)
    if ((await me(b, victim.cookie)).statusCode === 200) survivors++
  }
  t.comment(`${revokedInWindow} of ${ROUNDS} reads saw the session live before the revocation; ${survivors} revoked sessions served afterwards`)
  t.ok(revokedInWindow > ROUNDS / 2, 'the revocation landed inside the fill window in most rounds')
  t.equal(survivors, 0, 'no revoked session is served from the near cache')
})
