// npm run bench:profile [-- --target=session|health|bearer|portfolios|portfolios-owner|floor|jwt|jwt-denylist] [--cache=on|off] [--sessions=N] [--seconds=N] [--no-prof]
// Where one request's CPU goes: seeds a bench set (100 users × 10 sessions by default, their JWTs),
// starts the built server (or a peer: the one-GET floor, @fastify/jwt, @fastify/jwt + deny list) under `node --cpu-prof`, loads one route
// with autocannon (-c 100), stops the server (which writes the profile) and prints the CPU time
// per request of the server process and of Redis (from /proc and INFO, over the measured run),
// then the functions with the most self time, grouped by where they live (ours, fastify, ioredis,
// node …). The profile file stays in a temporary folder for Chrome DevTools or speedscope. With
// --no-prof only the CPU per request is measured, without the profiler's own cost. Nothing here
// goes into the report: CPU per request is what a change moves, req/s here is not a measurement.
import { mkdtemp, readdir, readFile } from 'node:fs/promises'
import { postgresCpuUs, processCpuUs, redisCpuUs } from './lib/cpu.js'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { Redis } from 'ioredis'
import { benchEnv } from './lib/bench-env.js'
import { cleanRedis, prepareDatabase } from './lib/database.js'
import { benchStore, createSessions } from './lib/seed.js'
import { installCleanup, REPO_ROOT, startPeer, startServer } from './lib/processes.js'
import { seedFloorKeys } from './lib/seed-peers.js'
import { runLoad } from './lib/load.js'
import { bearerHeaders, cookieHeaders, plainHeaders } from './lib/requests.js'
import { createLegacyJwt } from '../src/auth/legacy/jwt.js'

const args = new Map(process.argv.slice(2).map(a => a.replace(/^--/, '').split('=') as [string, string]))
const target = args.get('target') ?? 'session'
const cacheOn = (args.get('cache') ?? 'off') === 'on'
const seconds = Number(args.get('seconds') ?? 10)
const profiled = !args.has('no-prof')
// distinct cookies sent round robin: more than come back within the cache TTL is the cold path
const sessionCount = Number(args.get('sessions') ?? 1000)
const TARGETS = ['session', 'health', 'bearer', 'portfolios', 'portfolios-owner', 'floor', 'jwt', 'jwt-denylist']
// the peers of bench/peers that need no seeding of their own beyond the floor's keys
const PEERS: Record<string, string> = { floor: 'redis-get.ts', jwt: 'fastify-jwt.ts', 'jwt-denylist': 'fastify-jwt-denylist.ts' }
if (!TARGETS.includes(target) || !(seconds > 0) || !(Number.isInteger(sessionCount) && sessionCount >= 100)) {
  console.error(`bench:profile: --target is one of ${TARGETS.join(', ')}; --seconds a positive number; --sessions a whole number from 100`)
  process.exit(2)
}

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }
interface Profile { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[] }

/** which library (or node itself, or ours) a profiled function belongs to */
function owner (url: string): string {
  if (!url) return '(native)'
  const mod = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (mod) return mod[1]!
  if (url.startsWith('node:')) return 'node'
  if (url.includes('/dist/src/')) return 'ours'
  return url.split('/').slice(-2).join('/')
}

function summarize (profile: Profile): string {
  const total = profile.samples.length
  const byFunction = new Map<string, number>()
  const byOwner = new Map<string, number>()
  for (const n of profile.nodes) {
    const hits = n.hitCount ?? 0
    if (!hits) continue
    const { functionName, url, lineNumber } = n.callFrame
    const where = owner(url)
    const file = url ? url.slice(url.lastIndexOf('/') + 1) : ''
    const name = `${functionName || '(anonymous)'} ${where === '(native)' ? '' : `${where}:${file}:${lineNumber + 1}`}`
    byFunction.set(name, (byFunction.get(name) ?? 0) + hits)
    byOwner.set(where, (byOwner.get(where) ?? 0) + hits)
  }
  const pct = (n: number): string => `${(100 * n / total).toFixed(1).padStart(5)} %`
  const top = (m: Map<string, number>, n: number): string[] => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `${pct(v)}  ${k}`)
  return [`${total} samples over ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s`, '', 'self time by owner:', ...top(byOwner, 15), '', 'self time by function:', ...top(byFunction, 40)].join('\n')
}

installCleanup()
const bench = benchEnv()
const redis = new Redis(bench.redisUrl, { maxRetriesPerRequest: 3 })
const sql = postgres(bench.adminUrl, { max: 2, onnotice: () => {} })
try {
  await prepareDatabase(bench.adminUrl)
  await cleanRedis(redis, bench.keyPrefix)
  // at most 100 sessions a user (the bench's MAX_SESSIONS_PER_USER)
  const userCount = Math.max(100, Math.ceil(sessionCount / 100))
  const users = await sql<{ id: string; email: string }[]>`
    insert into users (email, password_hash) select 'profile-' || g || '@bench.test', 'x' from generate_series(1, ${userCount}::int) g returning id, email`
  await sql`insert into portfolios (user_id, name) select u.id, 'Portfolio ' || g from (select id from users limit 100) u, generate_series(1, 3) g`
  const created = await createSessions(benchStore(redis, bench.config), users, Math.ceil(sessionCount / users.length))
  const jwt = createLegacyJwt(bench.config.jwt)
  const cookies = cookieHeaders(bench.config.session.cookieName, created.map(c => c.session.token))
  const bearers = bearerHeaders(created.map(c => jwt.sign({ id: c.user.id, email: c.user.email, role: 'user' }, 1).token))
  const spec = {
    session: { path: '/api/auth/me', headerSets: cookies },
    portfolios: { path: '/api/portfolios', headerSets: cookies },
    // rls-read's fair pair: the same server and session check, the same SELECT as the table owner
    'portfolios-owner': { path: '/bench/portfolios-owner', headerSets: cookies },
    health: { path: '/api/health', headerSets: plainHeaders },
    floor: { path: '/api/auth/me', headerSets: cookieHeaders('sid', created.map(c => c.session.token)) },
    bearer: { path: '/api/auth/me', headerSets: bearers },
    jwt: { path: '/api/auth/me', headerSets: bearers },
    'jwt-denylist': { path: '/api/auth/me', headerSets: bearers }
  }[target]!

  const dir = await mkdtemp(join(tmpdir(), 'hallpass-profile-'))
  const prof = profiled ? ['--cpu-prof', '--cpu-prof-dir', dir] : []
  let server
  const peer = PEERS[target]
  if (peer) {
    await seedFloorKeys(redis, bench.keyPrefix, created.map(c => c.session.token), created.map(c => c.user))
    const env = { REDIS_URL: bench.redisUrl, KEY_PREFIX: bench.keyPrefix, JWT_ACCESS_SECRET: bench.server.JWT_ACCESS_SECRET, JWT_ISSUER: bench.config.jwt.issuer, JWT_AUDIENCE: bench.config.jwt.audience }
    server = await startPeer(peer, env, '/api/health', prof)
  } else if (target === 'portfolios-owner') {
    server = await startPeer('hallpass-with-bench-routes.ts', { ...bench.server, SESSION_CACHE_TTL: cacheOn ? undefined : '0' }, '/api/health', prof)
  } else {
    server = await startServer(bench, 'server', { SESSION_CACHE_TTL: cacheOn ? undefined : '0' }, prof)
  }
  await runLoad({ url: server.url, spec, connections: 100, durationS: 2 }) // warm the JIT before the measured part
  const [cpu0, redis0, pg0] = [await processCpuUs(server.pid), await redisCpuUs(redis), await postgresCpuUs()]
  const run = await runLoad({ url: server.url, spec, connections: 100, durationS: seconds })
  const [cpu1, redis1, pg1] = [await processCpuUs(server.pid), await redisCpuUs(redis), await postgresCpuUs()]
  await server.stop()
  const label = `${target}${peer || target === 'health' ? '' : `, cache ${cacheOn ? 'on' : 'off'}`}`
  console.log(`${label}: ${run.reqPerSec} req/s${profiled ? ' under the profiler' : ''}, ${run.non2xx} non-2xx, ${run.errors} errors`)
  const perRequest = (us: number): string => `${(us / run.total).toFixed(1)} µs`
  console.log(`CPU per request: server ${perRequest(cpu1 - cpu0)}, Redis ${perRequest(redis1 - redis0)}, Postgres ${perRequest(pg1 - pg0)} (${run.total} requests)`)
  if (profiled) {
    const file = (await readdir(dir)).find(f => f.endsWith('.cpuprofile'))
    if (!file) throw new Error('the server wrote no profile')
    const profile = JSON.parse(await readFile(join(dir, file), 'utf8')) as Profile
    console.log(summarize(profile).split(REPO_ROOT).join('./'))
    console.log(`\nprofile: ${join(dir, file)}`)
  }
} finally {
  await cleanRedis(redis, bench.keyPrefix).catch(() => {})
  redis.disconnect()
  await sql.end({ timeout: 5 })
}
