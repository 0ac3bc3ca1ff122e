// Issue 18, item 6: the near cache is bounded by age as well as by count. 150,000 distinct
// sessions (each with its own browser User-Agent, as Redis replies would give) go through the
// cache of a built app; after an idle period longer than the TTL plus one sweep, the cache holds
// nothing and the heap is back near where it started. The bound is asserted on the heap after a
// full GC (what the cache retains), not on RSS: V8 keeps freed pages committed for a while and
// the RSS of a tap process carries the runner's own allocations, so RSS is only reported.
import t from 'tap'
import v8 from 'node:v8'
import vm from 'node:vm'
import { build, waitFor } from './helper.js'
import { UA_CHROME } from './auth-helper.js'
import type { ValidSession } from '../src/auth/sessions/types.js'

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))
const MiB = 2 ** 20

const SESSIONS = 150_000
const MAX = 100_000
const TTL_MS = 500
/** what the heap may keep after the idle period: far below the ~1 KiB each live entry costs */
const HEAP_BOUND_MIB = 16

function heapAfterGc (): number {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

function session (i: number, now: number): ValidSession {
  return {
    userId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    email: `user-${i}@example.test`,
    role: 'user',
    publicId: `public-${i}-${Math.random().toString(36).slice(2)}`,
    ip: `10.0.${(i >> 8) & 255}.${i & 255}`,
    userAgent: `${UA_CHROME} build/${i}`,
    device: { browser: 'Chrome', os: 'Windows', type: 'desktop' },
    createdAt: now,
    lastSeenAt: now,
    idleExpiresAt: now + 3_600_000,
    absoluteExpiresAt: now + 86_400_000,
    touched: false
  }
}

t.test('150,000 distinct sessions, then idle: the cache keeps none of them', async t => {
  const app = await build(t, { SESSION_CACHE_TTL: `${TTL_MS}ms`, SESSION_CACHE_MAX: String(MAX) })
  await waitFor(() => app.sessionCache?.active, { what: 'the near cache subscribed' })
  const cache = app.sessionCache!
  const baseline = heapAfterGc()

  let largest = 0
  for (let i = 0; i < SESSIONS; i++) {
    cache.set(`k:${i}`, session(i, Date.now()), Date.now(), cache.generation)
    if (i % 1000 === 999) largest = Math.max(largest, cache.size)
  }
  const filled = process.memoryUsage()
  t.ok(largest > 0, 'the fills were kept')
  t.ok(largest <= MAX, `never more than SESSION_CACHE_MAX entries (largest seen ${largest})`)

  await sleep(TTL_MS + 1000 + 500) // the TTL, one sweep interval (at most 1 s), a margin
  const idleHeap = heapAfterGc()
  const grownMiB = (idleHeap - baseline) / MiB
  t.comment(`heap: ${(baseline / MiB).toFixed(1)} MiB before, ${(filled.heapUsed / MiB).toFixed(1)} MiB while filled, ${(idleHeap / MiB).toFixed(1)} MiB after idle; RSS ${(filled.rss / MiB).toFixed(0)} MiB filled, ${(process.memoryUsage().rss / MiB).toFixed(0)} MiB after idle`)
  t.equal(cache.size, 0, 'every entry left by age, with no request to evict it')
  t.ok(grownMiB < HEAP_BOUND_MIB, `the heap after idle is within ${HEAP_BOUND_MIB} MiB of before (${grownMiB.toFixed(1)} MiB)`)
})

t.test('an entry is not served past the TTL even before the sweep removes it', async t => {
  const app = await build(t, { SESSION_CACHE_TTL: '200ms' })
  await waitFor(() => app.sessionCache?.active, { what: 'the near cache subscribed' })
  const cache = app.sessionCache!
  const now = Date.now()
  cache.set('k:one', session(1, now), now, cache.generation)
  t.ok(await cache.lookup('k:one'), 'served while fresh')
  await sleep(250)
  t.equal(await cache.lookup('k:one'), undefined, 'refused once older than the TTL')
  cache.sweep(Date.now())
  t.equal(cache.size, 0, 'and gone after a sweep')
})
