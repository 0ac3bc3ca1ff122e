// /metrics moves as traffic says, on the listener it belongs to; the runbook numbers match the
// series they come from.
import t from 'tap'
import { build, delay, uniqueEmail, waitFor } from './helper.js'
import { login, me, ORIGIN, PASSWORD, register } from './auth-helper.js'
import { bearer, legacyLogin, refresh } from './legacy-helper.js'
import { moved, sample, scrape } from './metrics-helper.js'

t.test('a failed login adds exactly one to the failure counter; a good one to success by mode', async t => {
  const app = await build(t)
  const user = await register(app)
  const before = await scrape(app)
  const bad = await login(app, user.email, 'wrong password that is long enough')
  t.equal(bad.res.statusCode, 401)
  const afterBad = await scrape(app)
  t.equal(sample(afterBad, 'hallpass_logins_total', { outcome: 'invalid_credentials' }) - sample(before, 'hallpass_logins_total', { outcome: 'invalid_credentials' }), 1, 'one failure')
  t.equal(sample(afterBad, 'hallpass_logins_total', { mode: 'session', outcome: 'success' }) - sample(before, 'hallpass_logins_total', { mode: 'session', outcome: 'success' }), 0, 'no success')
  const good = await login(app, user.email)
  t.equal(good.res.statusCode, 200)
  const afterGood = await scrape(app)
  t.equal(sample(afterGood, 'hallpass_logins_total', { mode: 'session', outcome: 'success' }) - sample(afterBad, 'hallpass_logins_total', { mode: 'session', outcome: 'success' }), 1, 'one session login')
  t.equal(sample(afterGood, 'hallpass_audit_events_total', { type: 'LOGIN_FAILURE' }) - sample(before, 'hallpass_audit_events_total', { type: 'LOGIN_FAILURE' }), 1, 'the audit event is counted once')
})

t.test('latency is labelled by route pattern, never the raw URL', async t => {
  const app = await build(t)
  const id = '3f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b'
  const res = await app.inject({ method: 'GET', url: `/api/portfolios/${id}` })
  t.equal(res.statusCode, 401)
  const text = await scrape(app)
  t.notOk(text.includes(id), 'no raw id in any label')
  t.ok(sample(text, 'hallpass_http_request_duration_seconds_count', { route: '/api/portfolios/:id', status_class: '4xx' }) >= 1, 'the pattern is the label')
  t.match(text, /hallpass_http_request_duration_seconds_bucket\{le="0\.001",/, 'a bucket ends exactly at 1 ms')
  t.match(text, /hallpass_http_request_duration_seconds_bucket\{le="0\.01",/, 'and at 10 ms')
  t.notMatch(text, /# TYPE hallpass_\S+ summary/, 'no summaries')
  t.match(text, /^process_cpu_seconds_total /m, 'the default process metrics')
})

t.test('each response is counted once, in the series of its route, method and status class', async t => {
  const app = await build(t)
  const count = 'hallpass_http_request_duration_seconds_count'
  const health = { route: '/api/health', method: 'GET', status_class: '2xx' }
  const before = await scrape(app)
  for (let i = 0; i < 3; i++) t.equal((await app.inject('/api/health')).statusCode, 200)
  t.equal((await app.inject({ method: 'DELETE', url: '/api/health' })).statusCode, 404)
  t.equal((await app.inject('/no/such/route')).statusCode, 404)
  t.equal((await app.inject('/api/auth/me')).statusCode, 401)
  const after = await scrape(app)
  t.equal(moved(before, after, count, health), 3, 'three health checks, one series')
  t.equal(moved(before, after, count, { route: 'unmatched', method: 'DELETE', status_class: '4xx' }), 1, 'an unmatched method')
  t.equal(moved(before, after, count, { route: 'unmatched', method: 'GET', status_class: '4xx' }), 1, 'an unmatched path')
  t.equal(moved(before, after, count, { route: '/api/auth/me', method: 'GET', status_class: '4xx' }), 1, 'a refused call')
  t.equal(moved(before, after, count, { route: '/api/health', status_class: '4xx' }), 0, 'no stray series')
  t.equal(moved(before, after, 'hallpass_http_request_duration_seconds_bucket', { ...health, le: '+Inf' }), 3, 'the +Inf bucket agrees')
})

t.test('a revocation records a propagation sample and its reason', async t => {
  // a legacy logout publishes from TypeScript, stamped with the time it was published
  const app = await build(t, { NEW_AUTH_PERCENTAGE: '0' })
  const user = await register(app)
  const legacy = await legacyLogin(app, user.email)
  const before = await scrape(app)
  const out = await app.inject({ method: 'POST', url: '/api/auth/logout', headers: bearer(legacy.accessToken) })
  t.equal(out.statusCode, 204)
  const after = await (async () => {
    const deadline = Date.now() + 5000
    for (;;) {
      const text = await scrape(app)
      if (sample(text, 'hallpass_revocation_propagation_seconds_count') > sample(before, 'hallpass_revocation_propagation_seconds_count') || Date.now() > deadline) return text
      await new Promise(resolve => setTimeout(resolve, 20))
    }
  })()
  t.equal(sample(after, 'hallpass_revocation_propagation_seconds_count') - sample(before, 'hallpass_revocation_propagation_seconds_count'), 1, 'one propagation sample')
  t.ok(sample(after, 'hallpass_revocation_propagation_seconds_bucket', { le: '1' }) - sample(before, 'hallpass_revocation_propagation_seconds_bucket', { le: '1' }) === 1, 'within 1 s')
  t.equal(sample(after, 'hallpass_revocations_received_total', { reason: 'logout' }) - sample(before, 'hallpass_revocations_received_total', { reason: 'logout' }), 1, 'counted once, by reason')
})

t.test('the auth error rate is server failures over auth requests; 401s are not errors', async t => {
  const app = await build(t, {}, {
    routes: app => {
      app.get('/api/auth/test-boom', async () => { throw new Error('injected') })
    }
  })
  t.equal((await app.inject({ method: 'GET', url: '/metrics/auth-error-rate' })).body, '0\n', 'no traffic: 0')
  for (let i = 0; i < 3; i++) t.equal((await me(app, 'sid=nope')).statusCode, 401)
  t.equal((await app.inject({ method: 'GET', url: '/api/auth/test-boom' })).statusCode, 500)
  const rate = await app.inject({ method: 'GET', url: '/metrics/auth-error-rate' })
  t.equal(rate.headers['content-type'], 'text/plain; charset=utf-8')
  t.equal(rate.body, '25\n', '1 server error in 4 auth requests = 25 %')
  t.equal(app.ops.authErrorRatePercent(), 25)
})

t.test('session latency p95 answers "no data" or a number from the validation histogram', async t => {
  const app = await build(t)
  const res = await app.inject({ method: 'GET', url: '/metrics/session-latency-p95' })
  t.equal(res.statusCode, 200)
  t.match(res.body, /^(no data|[0-9]+(\.[0-9]+)?)\n$/)
})

t.test('production: no /metrics on the public listener; the metrics listener serves it', async t => {
  const app = await build(t, { NODE_ENV: 'production', METRICS_PORT: '0', METRICS_HOST: '127.0.0.1', ALLOWED_ORIGINS: 'https://app.example.com' })
  for (const url of ['/metrics', '/metrics/auth-error-rate', '/metrics/session-latency-p95']) {
    const res = await app.inject({ method: 'GET', url })
    t.equal(res.statusCode, 404, `${url} is absent from the public listener`)
    t.equal(res.json().code, 'ROUTE_NOT_FOUND')
  }
  t.type(app.metricsPort, 'number')
  const res = await fetch(`http://127.0.0.1:${app.metricsPort}/metrics`)
  t.equal(res.status, 200)
  t.match(await res.text(), /hallpass_redis_up 1/)
  const rate = await fetch(`http://127.0.0.1:${app.metricsPort}/metrics/auth-error-rate`)
  t.equal(await rate.text(), '0\n')
  const other = await fetch(`http://127.0.0.1:${app.metricsPort}/api/health`)
  t.equal(other.status, 404, 'the metrics listener serves nothing else')
  t.equal((await other.json() as { code: string }).code, 'ROUTE_NOT_FOUND')
  const post = await fetch(`http://127.0.0.1:${app.metricsPort}/metrics`, { method: 'POST' })
  t.equal(post.status, 405, 'read-only')
  const p95 = await fetch(`http://127.0.0.1:${app.metricsPort}/metrics/session-latency-p95`)
  t.match(await p95.text(), /^(no data|[0-9.]+)\n$/)
})

t.test('the p95 is PromQL\'s histogram_quantile', async t => {
  const { quantile } = await import('../src/ops/latency-p95.js')
  const cumulative = (pairs: Array<[number, number]>): Map<number, number> => new Map(pairs)
  t.equal(quantile(0.95, cumulative([[0.005, 0], [0.01, 94], [0.025, 100], [Infinity, 100]])), 0.0125, 'as promtool computes it')
  t.equal(quantile(0.95, cumulative([[0.01, 0], [Infinity, 0]])), null, 'no sample, no number')
  t.equal(quantile(0.95, cumulative([[0.01, 50], [Infinity, 100]])), 0.01, 'in +Inf: the highest finite bound')
})

t.test('registrations, refreshes by outcome, reuse attacks and each kind of refusal move by exactly one', async t => {
  const app = await build(t, { NEW_AUTH_PERCENTAGE: '0', REFRESH_REUSE_GRACE: '1', RATE_LIMIT_REGISTER: '2/1h', LOGIN_BACKOFF_THRESHOLD: '1' })
  let before = await scrape(app)
  const step = async (what: string, expected: Array<[string, Record<string, string>]>): Promise<void> => {
    const after = await scrape(app)
    for (const [name, labels] of expected) t.equal(moved(before, after, name, labels), 1, `${what}: ${name} ${JSON.stringify(labels)} +1`)
    before = after
  }

  const user = await register(app)
  await step('a registration', [['hallpass_registrations_total', { outcome: 'success' }]])
  const taken = await app.inject({ method: 'POST', url: '/api/auth/register', headers: { origin: ORIGIN }, payload: { email: user.email, password: PASSWORD } })
  t.equal(taken.json().code, 'AUTH_EMAIL_TAKEN')
  await step('an email taken', [['hallpass_registrations_total', { outcome: 'email_taken' }]])
  const limited = await app.inject({ method: 'POST', url: '/api/auth/register', headers: { origin: ORIGIN }, payload: { email: uniqueEmail(), password: PASSWORD } })
  t.equal(limited.json().code, 'RATE_LIMITED')
  await step('the register limit', [['hallpass_registrations_total', { outcome: 'refused' }], ['hallpass_refusals_total', { kind: 'rate_limit', route: '/api/auth/register' }]])

  const legacy = await legacyLogin(app, user.email)
  await step('a legacy login', [['hallpass_logins_total', { mode: 'legacy', outcome: 'success' }]])
  t.equal((await refresh(app, legacy.refreshToken)).statusCode, 200)
  await step('a rotation', [['hallpass_refreshes_total', { outcome: 'rotated' }]])
  await delay(1200) // past the 1 s grace window: a replay is theft
  t.equal((await refresh(app, legacy.refreshToken)).json().code, 'AUTH_REFRESH_REUSED')
  await waitFor(async () => moved(before, await scrape(app), 'hallpass_audit_events_total', { type: 'TOKEN_REUSE_ATTACK' }) === 1, { what: 'the reuse attack counted' })
  await step('a reuse', [['hallpass_refreshes_total', { outcome: 'reused' }], ['hallpass_audit_events_total', { type: 'TOKEN_REUSE_ATTACK' }]])

  t.equal((await login(app, user.email, 'a wrong password for the backoff')).res.statusCode, 401)
  await step('a wrong password', [['hallpass_logins_total', { outcome: 'invalid_credentials' }]])
  t.equal((await login(app, user.email, 'a wrong password for the backoff')).res.json().code, 'AUTH_TOO_MANY_ATTEMPTS')
  await step('the account backoff', [['hallpass_logins_total', { outcome: 'backoff' }], ['hallpass_refusals_total', { kind: 'backoff', route: '/api/auth/login' }]])

  const csrf = await app.inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie: 'sid=anything', origin: 'https://evil.example' } })
  t.equal(csrf.json().code, 'CSRF_ORIGIN_REJECTED')
  await step('a cross-site POST', [['hallpass_refusals_total', { kind: 'csrf', route: '/api/auth/logout' }]])
})
