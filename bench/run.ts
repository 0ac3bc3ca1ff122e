// npm run bench [-- --quick] [-- --only name,name]: builds (in the npm script), prepares the
// bench database and Redis prefix, seeds, runs each scenario one at a time against the built
// server and the peers, prints the markdown report and writes it to bench/results/ (a full run of
// every scenario) or to a temporary folder (a quick or partial run, named on stderr). Exits 1 when a
// scenario failed or saw errors (or non-2xx where 2xx is expected) — never for a speed.
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import postgres from 'postgres'
import { Redis } from 'ioredis'
import { benchEnv } from './lib/bench-env.js'
import { cleanRedis, prepareDatabase } from './lib/database.js'
import { seed as seedAll, benchStore } from './lib/seed.js'
import { seedFastifySessions, seedFloorKeys } from './lib/seed-peers.js'
import { installCleanup, REPO_ROOT, stopAll } from './lib/processes.js'
import { cpuBusy } from './lib/cpu-busy.js'
import { FULL_SHAPE, QUICK_SHAPE, type Measurement } from './lib/load.js'
import { machineOf, renderReport, resultsDirFor, writeLatest, writeScenario, type RunInfo } from './lib/report.js'
import type { RunContext, Scenario, ScenarioResult } from './lib/context.js'
import { sessionValidate } from './scenarios/session-validate.js'
import { legacyValidate } from './scenarios/legacy-validate.js'
import { mixed } from './scenarios/mixed.js'
import { rlsRead } from './scenarios/rls-read.js'
import { loginStorm } from './scenarios/login-storm.js'
import { revocations } from './scenarios/revocations.js'
import { wsFanout } from './scenarios/ws-fanout.js'

// each comparison runs its sides in interleaved rounds (lib/rounds.ts), so a ratio compares runs
// made seconds apart
const SCENARIOS: Scenario[] = [sessionValidate, legacyValidate, mixed, rlsRead, loginStorm, revocations, wsFanout]

const args = process.argv.slice(2)
const quick = args.includes('--quick')
const onlyArg = args.find(a => a.startsWith('--only='))?.slice('--only='.length) ?? (args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined)
const only = onlyArg ? new Set(onlyArg.split(',')) : null
const unknown = only ? [...only].filter(name => !SCENARIOS.some(s => s.name === name)) : []
if (unknown.length) {
  console.error(`bench: no scenario named ${unknown.join(', ')}; there are ${SCENARIOS.map(s => s.name).join(', ')}`)
  process.exit(2)
}

/** no path of this machine in anything the bench writes or prints */
function scrub (text: string): string {
  const home = os.homedir()
  const out = text.split(REPO_ROOT).join('./')
  return home.length > 1 ? out.split(home).join('~') : out
}

installCleanup()
const started = performance.now()
// before the bench adds its own load: the 1-minute average lags (the build just before it
// shows), the 2-second sample of CPU time does not
const loadBefore = os.loadavg()[0] ?? 0
const busyBefore = await cpuBusy(2000)
const bench = benchEnv()
const log = (msg: string): void => console.error(`bench: ${msg}`)

// a Redis that is not there ends the run with one clear line, not endless reconnects
const redis = new Redis(bench.redisUrl, { maxRetriesPerRequest: 3, lazyConnect: true, retryStrategy: times => (times > 3 ? null : 200 * times) })
redis.on('error', () => {}) // the awaited calls report it
// connects on its first query, once prepareDatabase has made the database
const sql = postgres(bench.adminUrl, { max: 4, onnotice: () => {} })
let exitCode = 0
try {
  log(`preparing the ${new URL(bench.adminUrl).pathname.slice(1)} database and the ${bench.keyPrefix} Redis prefix`)
  await prepareDatabase(bench.adminUrl)
  await redis.connect().catch((err: Error) => {
    throw new Error(`Redis at ${new URL(bench.redisUrl).host} does not answer (${err.message}); start it, or set REDIS_URL`)
  })
  await cleanRedis(redis, bench.keyPrefix)
  log('seeding users, sessions and tokens')
  const loginUsers = (quick ? 250 : 1000) + 1
  // the cold-cache scenario: far more sessions than come back within the cache TTL
  const coldSessions = quick ? 30_000 : 100_000
  const seed = await seedAll(sql, redis, bench.config, loginUsers, coldSessions)
  await seedFloorKeys(redis, bench.keyPrefix, seed.sessionTokens, seed.sessionTokenUsers)
  const fastifySessionCookies = await seedFastifySessions(bench.redisUrl, bench.keyPrefix, bench.fastifySessionSecret, seed.sessionUsers, seed.sessionTokens.length)

  const [pg] = await sql<{ server_version: string }[]>`show server_version`
  const redisVersion = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown'
  const run: Omit<RunInfo, 'wallS'> = {
    mode: quick ? 'quick' : 'full',
    command: ['npm run bench', quick || onlyArg ? '--' : '', quick ? '--quick' : '', onlyArg ? `--only=${onlyArg}` : ''].filter(Boolean).join(' '),
    startedAt: new Date().toISOString(),
    machine: machineOf(pg?.server_version.split(' ')[0] ?? 'unknown', redisVersion),
    loadBefore,
    busyBefore,
    shape: quick ? QUICK_SHAPE : FULL_SHAPE
  }

  const ctx: RunContext = {
    quick,
    shape: quick ? QUICK_SHAPE : FULL_SHAPE,
    bench,
    seed,
    fastifySessionCookies,
    sql,
    redis,
    store: benchStore(redis, bench.config),
    measurements: new Map<string, Measurement>(),
    rounds: new Map()
  }

  const resultsDir = await resultsDirFor({ quick, partial: only !== null })
  const results: ScenarioResult[] = []
  for (const s of SCENARIOS.filter(s => !only || only.has(s.name))) {
    log(`${s.name}: ${s.title}`)
    const t = performance.now()
    let result: ScenarioResult
    try {
      result = await s.run(ctx)
    } catch (err) {
      const message = scrub((err as Error).message)
      log(`${s.name} failed: ${message}`)
      result = { scenario: s.name, title: s.title, status: 'failed', notes: [message.split('\n')[0]!], measurements: [], problems: [`${s.name}: ${message.split('\n')[0]}`] }
    }
    result.wallS = (performance.now() - t) / 1000
    result.notes = result.notes.map(scrub)
    result.problems = result.problems.map(scrub)
    results.push(result)
    await writeScenario(resultsDir, run, result)
  }

  const markdown = scrub(renderReport({ ...run, wallS: (performance.now() - started) / 1000, loadAfter: os.loadavg()[0] ?? 0 }, results, ctx.measurements, ctx.rounds))
  process.stdout.write('\n' + markdown)
  await writeLatest(resultsDir, markdown)
  log(`report written to ${scrub(fileURLToPath(resultsDir))}`)
  const problems = results.flatMap(r => r.problems)
  if (problems.length) {
    log(`smoke check failed: ${problems.length} problem(s), listed in the report`)
    exitCode = 1
  }
} catch (err) {
  log(`failed: ${scrub((err as Error).message ?? String(err))}`)
  exitCode = 1
} finally {
  await stopAll()
  await cleanRedis(redis, bench.keyPrefix).catch(() => {})
  redis.disconnect()
  await sql.end({ timeout: 5 })
}
process.exit(exitCode)
