// A dependency outage is logged per state change plus a periodic count, not once per request
// with a stack (issue 18, item 9; finding 10: ~22,500 error lines per 10 s Redis outage). A
// private redis-server is killed under requests and started again; the log stream is counted.
import t from 'tap'
import { build, waitFor } from './helper.js'
import { startRedis } from './fault-processes.js'
import { register } from './auth-helper.js'
import { bearer, legacyLogin } from './legacy-helper.js'

interface Line { level: number; msg: string; dependency?: string; answered503?: number; err?: { stack?: string }; reason?: { message?: string } }

const REQUESTS = 300

t.test('a Redis outage under 300 requests: one error line, counts per interval, one recovery line', async t => {
  const redis = await startRedis(t)
  const lines: Line[] = []
  const app = await build(t, { REDIS_URL: redis.url, NEW_AUTH_PERCENTAGE: '0', LOG_LEVEL: 'info', DEPENDENCY_LOG_INTERVAL: '200ms' }, {
    logStream: { write: (line: string) => { lines.push(JSON.parse(line) as Line) } }
  })
  const { email } = await register(app)
  const headers = bearer((await legacyLogin(app, email)).accessToken)
  let answered503 = 0
  const me = async () => {
    const res = await app.inject({ method: 'GET', url: '/api/auth/me', headers })
    if (res.statusCode === 503) answered503++
    return res
  }
  t.equal((await me()).statusCode, 200)

  await redis.kill()
  const from = lines.length
  const statuses: number[] = []
  for (let wave = 0; wave < 10; wave++) {
    const answers = await Promise.all(Array.from({ length: REQUESTS / 10 }, me))
    statuses.push(...answers.map(r => r.statusCode))
    await new Promise(resolve => setTimeout(resolve, 50)) // the outage spans several intervals
  }
  t.same([...new Set(statuses)], [503], `all ${REQUESTS} requests answered 503`)
  const errorLines = lines.slice(from).filter(l => l.level >= 50).length
  t.equal(errorLines, 1, `one error line while Redis is down (${errorLines})`)

  await redis.start()
  await waitFor(async () => (await me()).statusCode === 200, { what: 'the service answers again', intervalMs: 100 })
  const recovered = await waitFor(() => lines.slice(from).find(l => l.msg === 'redis answers again'), { what: 'the recovery line' })
  t.equal(recovered.answered503, answered503, `the recovery line counts every 503 of the outage (${answered503})`)

  const outage = lines.slice(from).filter(l => l.msg !== 'incoming request' && l.msg !== 'request completed')
  const errors = outage.filter(l => l.level >= 50)
  t.equal(errors.length, 1, 'one error line: the state change')
  t.equal(errors[0]?.dependency, 'redis')
  t.match(errors[0]?.reason?.message, /Stream isn't writeable|Connection is closed/, 'it names the cause')
  t.equal(outage.filter(l => JSON.stringify(l).includes('"stack"')).length, 0, 'no stack trace for a dependency outage')
  const counts = outage.filter(l => l.msg.startsWith('redis still unavailable'))
  t.ok(counts.length >= 1, `periodic count lines (${counts.length})`)
  t.equal(1 + counts.reduce((n, l) => n + (l.answered503 ?? 0), 0), answered503, 'the first failure plus the periodic counts are every 503')
  t.ok(outage.length < 30, `${outage.length} lines in all for ${answered503} failed requests`)
})
