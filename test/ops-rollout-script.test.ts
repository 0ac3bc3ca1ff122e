// npm run rollout -- --status | --clear, against the real Redis, and the override's parser.
import t from 'tap'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { createRedis } from '../src/infra/redis.js'
import { overrideKey, parseOverride, writeOverride } from '../src/auth/rollout-override.js'
import { testConfig, testEnv } from './helper.js'

const run = promisify(execFile)
const root = new URL('..', import.meta.url).pathname

async function rollout (env: Record<string, string | undefined>, ...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import=tsx', 'scripts/rollout.ts', ...args], { cwd: root, env: { ...process.env, ...env }, timeout: 60_000 })
  return stdout
}

t.test('--status shows flags and the override; --clear removes it', async t => {
  const env = testEnv({ NEW_AUTH_PERCENTAGE: '40' })
  const config = testConfig({ REDIS_KEY_PREFIX: env.REDIS_KEY_PREFIX })
  const redis = createRedis(config.redis)
  t.teardown(async () => { await redis.del(overrideKey(config.redis.keyPrefix)); redis.disconnect() })

  t.match(await rollout(env, '--status'), /NEW_AUTH_PERCENTAGE=40[\s\S]*override: none[\s\S]*effective percentage: 40/)
  t.equal(await writeOverride(redis, config.redis.keyPrefix, { maxPercentage: 0, reason: 'test', at: '2026-01-01T00:00:00.000Z' }), true)
  t.equal(await writeOverride(redis, config.redis.keyPrefix, { maxPercentage: 5, reason: 'second', at: '2026-01-01T00:00:00.000Z' }), false, 'a standing override is kept')
  t.match(await rollout(env, '--status'), /override: new logins capped at 0 %[\s\S]*\(test\)[\s\S]*effective percentage: 0/)
  t.match(await rollout(env, '--clear'), /override cleared/)
  t.equal(await redis.get(overrideKey(config.redis.keyPrefix)), null, 'gone from Redis')
  t.match(await rollout(env, '--clear'), /no override was in force/)
  await t.rejects(rollout(env, '--bogus'), 'an unknown flag exits non-zero')
})

t.test('an unreadable override caps nothing', async t => {
  for (const raw of [null, 'not json', '7', '{"maxPercentage":-1}', '{"maxPercentage":101}', '{"maxPercentage":1.5}', '{}']) {
    t.equal(parseOverride(raw), null, String(raw))
  }
  t.same(parseOverride('{"maxPercentage":0}'), { maxPercentage: 0, reason: '', at: '' })
})
