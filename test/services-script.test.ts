// scripts/services.sh with real processes on free ports (the machine's shared servers are never
// touched): it starts Redis with the password of REDIS_URL, adopts a Postgres only after a real
// login as the URL's user, refuses a cluster it cannot log into (saying what to do), and
// `stop` stops exactly what it started. The script runs from a copy in a temporary folder, so its
// .data/ is that folder's, never the repository's.
import t, { type Test } from 'tap'
import { spawnSync } from 'node:child_process'
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from './helper.js'
import { hasPostgresBinaries, startPostgres, startRedis } from './fault-processes.js'

const REPO = fileURLToPath(new URL('..', import.meta.url))
const IS_ROOT = process.getuid?.() === 0

interface Copy { dir: string; run: (env: Record<string, string>, ...args: string[]) => { status: number | null; out: string } }

/** the script in a folder of its own (with the repository's node_modules for its login check) */
function scriptCopy (t: Test): Copy {
  const dir = mkdtempSync(join(tmpdir(), 'hallpass-services-'))
  chmodSync(dir, 0o755) // the postgres OS user must reach .data/ below it
  mkdirSync(join(dir, 'scripts'))
  copyFileSync(join(REPO, 'scripts/services.sh'), join(dir, 'scripts/services.sh'))
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'))
  const run = (env: Record<string, string>, ...args: string[]) => {
    const r = spawnSync('bash', [join(dir, 'scripts/services.sh'), ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000 })
    return { status: r.status, out: `${r.stdout}${r.stderr}` }
  }
  t.teardown(() => {
    run({}, 'stop') // whatever a failed assertion left running
    rmSync(dir, { recursive: true, force: true })
  })
  return { dir, run }
}

const redisCli = (port: number, ...args: string[]): string =>
  spawnSync('redis-cli', ['-p', String(port), '--no-auth-warning', ...args], { encoding: 'utf8', timeout: 5000 }).stdout.trim()
const psql = (port: number, user = 'postgres'): { status: number | null; out: string } => {
  const r = spawnSync('psql', ['-X', '-A', '-t', '-h', '127.0.0.1', '-p', String(port), '-U', user, '-d', 'postgres', '-c', 'select 42'], { encoding: 'utf8', timeout: 10_000, env: { ...process.env, PGPASSWORD: '', PGCONNECT_TIMEOUT: '5' } })
  return { status: r.status, out: `${r.stdout}${r.stderr}`.trim() }
}
const pidAlive = (pid: number): boolean => { try { process.kill(pid, 0); return true } catch { return false } }

function pgBin (): string {
  const r = spawnSync('bash', ['-c', 'ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1'], { encoding: 'utf8' })
  return r.stdout.trim()
}
const asPostgres = (cmd: string, args: string[]) => spawnSync(IS_ROOT ? 'runuser' : cmd, IS_ROOT ? ['-u', 'postgres', '--', cmd, ...args] : args, { encoding: 'utf8', timeout: 60_000 })

/** a cluster as Debian's package makes it: TCP logins need a password (scram-sha-256), and none is set */
async function startPasswordOnlyCluster (t: Test): Promise<number> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'hallpass-scram-'))
  chmodSync(dir, 0o777)
  const data = join(dir, 'data')
  const init = asPostgres(join(pgBin(), 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '--locale=C'])
  if (init.status !== 0) throw new Error(`initdb: ${init.stderr}`)
  writeFileSync(join(data, 'pg_hba.conf'), 'local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\nhost all all ::1/128 scram-sha-256\n')
  const start = asPostgres(join(pgBin(), 'pg_ctl'), ['-D', data, '-l', join(dir, 'log'), '-w', '-o', `-c listen_addresses=127.0.0.1 -p ${port} -k '' -c fsync=off`, 'start'])
  if (start.status !== 0) throw new Error(`pg_ctl: ${start.stderr}`)
  t.teardown(() => {
    asPostgres(join(pgBin(), 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'])
    rmSync(dir, { recursive: true, force: true })
  })
  return port
}

t.test('a password in REDIS_URL is given to the Redis it starts; stop stops it and only it', async t => {
  const copy = scriptCopy(t)
  const adopted = await startRedis(t) // already running: adopted, never stopped by the script
  const redisPort = await freePort()
  const pgPort = await freePort()
  const env = { REDIS_URL: `redis://:s3cret pass@127.0.0.1:${redisPort}`, DATABASE_ADMIN_URL: `postgres://postgres@127.0.0.1:${pgPort}/hallpass` }

  const up = copy.run(env)
  t.equal(up.status, 0, up.out)
  t.match(up.out, new RegExp(`started redis on 127\\.0\\.0\\.1:${redisPort} with the password of REDIS_URL`))
  t.match(up.out, /npm run services:stop/, 'says how to stop them')
  t.notMatch(up.out, /s3cret/, 'the password is never printed')
  t.match(redisCli(redisPort, 'ping'), /NOAUTH/, 'without the password: refused')
  t.equal(redisCli(redisPort, '-a', 's3cret pass', 'ping'), 'PONG', 'AUTH with the URL\'s password works')
  const redisPid = Number(readFileSync(join(copy.dir, '.data/redis.pid'), 'utf8'))
  const ps = spawnSync('ps', ['-o', 'args=', '-p', String(redisPid)], { encoding: 'utf8' }).stdout
  t.notMatch(ps, /s3cret/, 'nor in the process list')
  t.equal(psql(pgPort).out, '42', 'its own Postgres takes postgres without a password (trust, in .data/)')
  t.ok(existsSync(join(copy.dir, '.data/pg/PG_VERSION')), 'the cluster lives in .data/pg')

  const again = copy.run(env)
  t.equal(again.status, 0)
  t.match(again.out, /redis answers at .* and postgres takes postgres at/, 'a second run adopts what the first started')

  const down = copy.run({ ...env, REDIS_URL: adopted.url }, 'stop')
  t.equal(down.status, 0, down.out)
  t.match(down.out, /stopped redis \(pid \d+\); stopped postgres \(pid \d+/)
  t.notOk(pidAlive(redisPid), 'the Redis it started is gone')
  t.not(redisCli(redisPort, '-a', 's3cret pass', 'ping'), 'PONG')
  t.not(psql(pgPort).status, 0, 'the Postgres it started is gone')
  t.equal(adopted.cli('ping'), 'PONG', 'a Redis it did not start keeps running')
  t.ok(existsSync(join(copy.dir, '.data/pg/PG_VERSION')), 'stop keeps the data')

  const wipe = copy.run(env, 'stop', '--wipe')
  t.equal(wipe.status, 0)
  t.match(wipe.out, /nothing of ours was running; deleted \.data\//)
  t.notOk(existsSync(join(copy.dir, '.data')), '--wipe deletes .data/')
})

t.test('servers that already take us are adopted, and stop never touches them', { skip: !hasPostgresBinaries && 'no Postgres server binaries' }, async t => {
  const copy = scriptCopy(t)
  const redis = await startRedis(t)
  const pg = await startPostgres(t)
  const env = { REDIS_URL: redis.url, DATABASE_ADMIN_URL: pg.adminUrl }
  const up = copy.run(env)
  t.equal(up.status, 0, up.out)
  t.equal(up.out.trim(), `services: redis answers at ${redis.url} and postgres takes postgres at ${pg.adminUrl}`)
  const down = copy.run(env, 'stop')
  t.match(down.out, /nothing of ours was running/)
  t.equal(redis.cli('ping'), 'PONG', 'the adopted Redis still runs')
  t.equal(pg.psql('select 7'), '7', 'the adopted Postgres still runs')
})

t.test('a Redis that wants a password REDIS_URL lacks, or another one, is named, not adopted', async t => {
  const copy = scriptCopy(t)
  const locked = await startRedis(t) // a private one: its password is set after it answers
  t.equal(locked.cli('config', 'set', 'requirepass', 'the-right-one'), 'OK')
  const pgPort = await freePort() // never reached: the Redis check fails first
  const none = copy.run({ REDIS_URL: locked.url, DATABASE_ADMIN_URL: `postgres://postgres@127.0.0.1:${pgPort}/hallpass` })
  t.equal(none.status, 1)
  t.match(none.out, /wants a password: put it in REDIS_URL/)
  const wrong = copy.run({ REDIS_URL: `redis://:not-it@127.0.0.1:${locked.port}`, DATABASE_ADMIN_URL: `postgres://postgres@127.0.0.1:${pgPort}/hallpass` })
  t.equal(wrong.status, 1)
  t.match(wrong.out, /refused the credentials in REDIS_URL/)
  t.notMatch(wrong.out, /not-it/)
  t.notOk(existsSync(join(copy.dir, '.data/redis.pid')), 'nothing was started')
})

t.test('a Postgres that answers but refuses the URL\'s user is not adopted: the script says what to do', { skip: !hasPostgresBinaries && 'no Postgres server binaries' }, async t => {
  const copy = scriptCopy(t)
  const redis = await startRedis(t)
  const pgPort = await startPasswordOnlyCluster(t)
  t.not(psql(pgPort).status, 0, 'the cluster refuses a password-less login (as a fresh distro cluster does)')
  const r = copy.run({ REDIS_URL: redis.url, DATABASE_ADMIN_URL: `postgres://postgres@127.0.0.1:${pgPort}/hallpass` })
  t.equal(r.status, 1, r.out)
  t.match(r.out, new RegExp(`postgres at postgres://postgres@127\\.0\\.0\\.1:${pgPort}/hallpass answers but refuses postgres \\(28P01 password authentication failed`))
  t.match(r.out, /ALTER ROLE postgres PASSWORD/, 'how to use that server')
  const alt = /DATABASE_ADMIN_URL=postgres:\/\/postgres@127\.0\.0\.1:(\d+)\/hallpass DATABASE_URL=postgres:\/\/hallpass_app@127\.0\.0\.1:\1\/hallpass npm start/.exec(r.out)
  t.ok(alt, 'or the exact command that runs our own on a free port')
  t.notOk(existsSync(join(copy.dir, '.data/pg')), 'nothing was started or initialised')

  // and that command works: the script starts its own trust cluster on the port it named
  const own = copy.run({ REDIS_URL: redis.url, DATABASE_ADMIN_URL: `postgres://postgres@127.0.0.1:${alt![1]}/hallpass` })
  t.equal(own.status, 0, own.out)
  t.equal(psql(Number(alt![1])).out, '42')
  t.equal(copy.run({}, 'stop').status, 0)
})
