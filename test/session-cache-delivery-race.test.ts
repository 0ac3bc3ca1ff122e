// A revocation made on instance A and already delivered to instance B's subscriber socket must be
// honoured by B's near cache, even when B reads a request in the same turn of its event loop as
// that message, the request's socket first. Both apps share this process: A's DELETE resolves in
// microtasks right after Redis answers the revoke script, and Redis writes the revocation message
// to B's subscriber in that same pass, so B's request arrives with the message unread. Varied:
// microtask delays before the request and how many requests B gets at once.
import t from 'tap'
import { build, uniquePrefix, waitFor } from './helper.js'
import { browser, login, me, register } from './auth-helper.js'
import { sessionCacheHits } from '../src/auth/sessions/validation-metrics.js'

const ROUNDS = 40

t.test('a delivered revocation is honoured by the other instance\'s near cache: 40 rounds, 0 survivors', async t => {
  const prefix = uniquePrefix()
  const env = { REDIS_KEY_PREFIX: prefix, SESSION_CACHE_TTL: '30s', MAX_SESSIONS_PER_USER: '1000', LOGIN_BACKOFF_THRESHOLD: '1000', RATE_LIMIT_LOGIN: '100000/1m' }
  const a = await build(t, env)
  const b = await build(t, env)
  await waitFor(() => a.sessionCache?.active && b.sessionCache?.active, { what: 'both near caches subscribed' })

  const owner = await register(a)
  let cachedBefore = 0
  let survivors = 0
  let requests = 0
  for (let round = 0; round < ROUNDS; round++) {
    const victim = await login(a, owner.email)
    const publicId = (await a.inject({ method: 'GET', url: '/api/auth/sessions', headers: browser(victim.cookie) })).json()
      .sessions.find((s: { current: boolean }) => s.current).id
    // B validates it from Redis, then answers it from its near cache (the hit counter moves)
    const hitsBefore = (await sessionCacheHits.get()).values[0]?.value ?? 0
    const warm = [await me(b, victim.cookie), await me(b, victim.cookie)]
    const hits = ((await sessionCacheHits.get()).values[0]?.value ?? 0) - hitsBefore
    if (warm.every(r => r.statusCode === 200) && hits === 1) cachedBefore++
    const revoke = await a.inject({ method: 'DELETE', url: `/api/auth/sessions/${publicId}`, headers: browser(owner.cookie) })
    if (revoke.statusCode !== 204) throw new Error(`revoke: ${revoke.statusCode}`)
    for (let k = 0; k < round % 5; k++) await Promise.resolve()
    const parallel = 1 + (round % 3)
    const replies = await Promise.all(Array.from({ length: parallel }, () => me(b, victim.cookie)))
    requests += parallel
    survivors += replies.filter(r => r.statusCode === 200).length
  }
  t.comment(`${cachedBefore} of ${ROUNDS} victims cached on B before their revocation; ${survivors} of ${requests} requests after it accepted`)
  t.equal(cachedBefore, ROUNDS, 'every victim was in B\'s near cache when it was revoked')
  t.equal(survivors, 0, 'no request after the revocation answered is accepted on B')
})
