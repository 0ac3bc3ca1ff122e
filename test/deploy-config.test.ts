// The settings a deployment leans on: the migrations' own configuration (the owner's URL and
// nothing else, so the migration Job needs no JWT secret) and SHUTDOWN_TIMEOUT, which the pod's
// grace period is measured against (manifests.test.ts).
import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { ConfigError, parseConfig, parseMigrateConfig } from '../src/config/config.js'
import { TEST_ADMIN_URL } from './helper.js'

t.test('the migrations read DATABASE_ADMIN_URL alone, in production without a JWT secret', async t => {
  const env = { NODE_ENV: 'production', DATABASE_ADMIN_URL: 'postgres://owner:pw@db.example.invalid:5432/hallpass' }
  t.same(parseMigrateConfig(env), { adminUrl: env.DATABASE_ADMIN_URL })
  t.throws(() => parseConfig(env), /JWT_ACCESS_SECRET: missing/, 'the server\'s parse still demands the secret')
})

t.test('a bad DATABASE_ADMIN_URL is named, its value hidden', async t => {
  const err = t.throws(() => parseMigrateConfig({ DATABASE_ADMIN_URL: 'mysql://owner:hunter2-secret@db/hallpass' })) as ConfigError
  t.type(err, ConfigError)
  t.same(err.problems, ['DATABASE_ADMIN_URL: (value hidden) is not valid; expected postgres://user[:pass]@host:port/db (owner of the schema, for migrations)'])
})

t.test('npm run migrate works with only the owner\'s URL in production', async t => {
  const child = spawn(process.execPath, ['--import=tsx', 'scripts/migrate.ts'], {
    env: { PATH: process.env.PATH, NODE_ENV: 'production', DATABASE_ADMIN_URL: TEST_ADMIN_URL },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout.on('data', d => { out += d })
  child.stderr.on('data', d => { out += d })
  const [code] = await once(child, 'exit')
  t.equal(code, 0, 'exit 0', { output: out })
  t.match(out, /nothing to migrate up/, 'the suite\'s database is already migrated')
  t.notMatch(out, /JWT_ACCESS_SECRET/)
})

t.test('SHUTDOWN_TIMEOUT sets the graceful close deadline, at least 1 s', async t => {
  t.equal(parseConfig({}).config.shutdownTimeoutMs, 10_000, 'default 10 s')
  t.equal(parseConfig({ SHUTDOWN_TIMEOUT: '25s' }).config.shutdownTimeoutMs, 25_000)
  t.throws(() => parseConfig({ SHUTDOWN_TIMEOUT: '500ms' }), /SHUTDOWN_TIMEOUT: 500ms is too short; expected at least 1000 ms/)
  t.throws(() => parseConfig({ SHUTDOWN_TIMEOUT: 'soon' }), /SHUTDOWN_TIMEOUT: "soon" is not valid/)
})
