// The container image's contents are enough to migrate and serve, proven without a Docker engine:
// the Dockerfile's stages are laid out in plain folders following their COPY and RUN lines as
// written (test/dockerfile.ts), the final stage alone is kept, and from there the migration Job's
// command runs with only DATABASE_ADMIN_URL, then the image's CMD serves with production settings
// against the real Redis and a database of its own, as the image's unprivileged user, until
// /api/health/ready answers 200 and the pages load. Run by `npm run test:image` (a build and a
// production install take longer than a file of the suite may), which .ci/run calls under the
// image's Node version. It runs under plain node, not the tap runner: the runner instruments the
// processes a test spawns, and those would try to write its records as the image user.
import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import postgres from 'postgres'
import { parse } from 'yaml'
import { materialise, readDockerfile } from './dockerfile.js'
import { TEST_ADMIN_URL, TEST_DATABASE_URL, freePort, uniquePrefix, waitFor } from './helper.js'

// a build and a production install on a loaded machine: minutes, not the runner's default
t.setTimeout(15 * 60_000)

const ROOT = process.cwd()
const IMAGE_UID = 1000 // the `node` user of the official images, the manifests' runAsUser

/** the test database's server with a database name of this file's own */
function ownDatabase (url: string): string {
  const u = new URL(url)
  u.pathname = u.pathname + '_image'
  return u.toString()
}
const ADMIN_URL = ownDatabase(TEST_ADMIN_URL)
const APP_URL = ownDatabase(TEST_DATABASE_URL)

async function dropDatabase (): Promise<void> {
  const maintenance = new URL(ADMIN_URL)
  const name = decodeURIComponent(maintenance.pathname.slice(1))
  maintenance.pathname = '/postgres'
  const sql = postgres(maintenance.toString(), { max: 1, onnotice: () => {} })
  try {
    await sql.unsafe(`drop database if exists "${name}" with (force)`)
  } finally {
    await sql.end({ timeout: 5 })
  }
}

/** each file a patch in `dir` changes, with the lines the patch adds to it */
function patchedLines (dir: string): Array<{ file: string, added: string[] }> {
  const out: Array<{ file: string, added: string[] }> = []
  for (const name of readdirSync(dir).filter(f => f.endsWith('.patch'))) {
    for (const line of readFileSync(join(dir, name), 'utf8').split('\n')) {
      if (line.startsWith('+++ b/')) out.push({ file: line.slice('+++ b/'.length), added: [] })
      else if (line.startsWith('+') && !line.startsWith('+++') && line.trim() !== '+') out.at(-1)?.added.push(line.slice(1))
    }
  }
  return out
}

interface Exit { code: number | null; out: string }

/** a process in the image folder with only the environment given (plus PATH), as the image user when we are root */
function runInImage (command: string[], cwd: string, env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<Exit> } {
  const asImageUser = process.getuid?.() === 0 ? { uid: IMAGE_UID, gid: IMAGE_UID } : {}
  // the image's `node` is the Node running this check (.ci/run runs it under the image's version)
  const [program, ...args] = command
  const child = spawn(program === 'node' ? process.execPath : program!, args, {
    cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...asImageUser
  })
  let out = ''
  child.stdout!.on('data', d => { out += d })
  child.stderr!.on('data', d => { out += d })
  const exited = once(child, 'exit').then(([code]) => ({ code: code as number | null, out }))
  return { child, output: () => out, exited }
}

t.test('the final stage of the Dockerfile migrates and serves on its own', async t => {
  const dockerfile = readDockerfile(ROOT)
  const final = dockerfile.stages.at(-1)!
  t.ok(final.cmd, 'the final stage has an exec-form CMD')
  t.ok(final.user && final.user !== 'root' && final.user !== '0', `the final stage runs as a non-root user (${final.user})`)
  t.equal(final.env.NODE_ENV, 'production', 'the image sets NODE_ENV=production')

  const into = mkdtempSync(join(tmpdir(), 'hallpass-image-'))
  t.teardown(() => rmSync(into, { recursive: true, force: true }))
  await dropDatabase()
  t.teardown(dropDatabase)

  const steps: string[] = []
  const started = Date.now()
  const finalRoot = materialise(dockerfile, dockerfile.stages.length - 1, {
    context: ROOT,
    into,
    nodeModules: join(ROOT, 'node_modules'),
    // the production install may use the machine's npm cache (no network needed when it is warm)
    env: { ...process.env, npm_config_prefer_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' },
    log: line => steps.push(line)
  })
  t.comment(`laid out in ${Math.round((Date.now() - started) / 1000)} s:\n${steps.join('\n')}`)
  const app = join(finalRoot, final.workdir)
  // readable and traversable by the image user, as a root-owned image layer is; writable by nobody but root
  for (let dir = app; dir.startsWith(into); dir = join(dir, '..')) chmodSync(dir, 0o755)

  // production dependencies only: nothing the lockfile marks as needed for development alone
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; optional?: boolean }> }
  const modules = Object.entries(lock.packages).filter(([path]) => path.startsWith('node_modules/'))
  const devOnly = modules.filter(([, p]) => p.dev).map(([path]) => path)
  t.ok(devOnly.length > 0, `the lockfile marks ${devOnly.length} packages as development-only`)
  t.same(devOnly.filter(path => existsSync(join(app, path))), [], 'none of them is in the image')
  const production = modules.filter(([, p]) => !p.dev && !p.optional).map(([path]) => path)
  t.same(production.filter(path => !existsSync(join(app, path))), [], `all ${production.length} production packages are in the image`)
  t.notOk(existsSync(join(app, 'src', 'config')), 'no TypeScript source of the server in the image')
  // the dependency patches (patches/, applied by npm ci's postinstall) reached the image's install
  for (const { file, added } of patchedLines(join(ROOT, 'patches'))) {
    const text = readFileSync(join(app, file), 'utf8')
    t.same(added.filter(line => !text.includes(line)), [], `${file}: the patch is applied in the image`)
  }

  // the migration Job's own command, with nothing but the owner's URL (no JWT secret, no ConfigMap)
  const job = parse(readFileSync(join(ROOT, 'k8s', 'migrate-job.yaml'), 'utf8')) as { spec: { template: { spec: { containers: { command: string[] }[] } } } }
  const migrateCommand = job.spec.template.spec.containers[0]!.command
  const migrated = await runInImage(migrateCommand, app, { ...final.env, DATABASE_ADMIN_URL: ADMIN_URL }).exited
  t.equal(migrated.code, 0, `${migrateCommand.join(' ')} exits 0`, { output: migrated.out })
  const migrations = readdirSync(join(ROOT, 'migrations')).filter(f => f.endsWith('.ts')).map(f => f.replace(/\.ts$/, '')).sort()
  t.match(migrated.out, `migrated up: ${migrations.join(', ')}`)
  const sql = postgres(ADMIN_URL, { max: 1, onnotice: () => {} })
  t.teardown(() => sql.end({ timeout: 5 }))
  const applied = await sql<{ name: string }[]>`select name from pgmigrations order by run_on, id`
  t.same(applied.map(r => r.name), migrations, 'Postgres records every migration as applied')
  const asApp = postgres(APP_URL, { max: 1, onnotice: () => {} })
  t.teardown(() => asApp.end({ timeout: 5 }))
  const [rls] = await asApp<{ ok: boolean }[]>`select app.test_rls_isolation() as ok`
  t.equal(rls?.ok, true, 'the RLS policies and functions of sql/ hold for the app role')

  // the image's CMD with production settings
  const port = await freePort()
  const server = runInImage(final.cmd!, app, {
    ...final.env,
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'info',
    DATABASE_URL: APP_URL,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_KEY_PREFIX: uniquePrefix(),
    JWT_ACCESS_SECRET: randomBytes(48).toString('base64url'),
    ALLOWED_ORIGINS: `http://127.0.0.1:${port}`
  })
  t.teardown(() => { if (server.child.exitCode === null) server.child.kill('SIGKILL') })
  const base = `http://127.0.0.1:${port}`
  const ready = await waitFor(async () => {
    if (server.child.exitCode !== null) throw new Error(`the server exited ${server.child.exitCode}:\n${server.output()}`)
    const res = await fetch(`${base}/api/health/ready`).catch(() => null)
    return res?.status === 200 ? res : null
  }, { timeoutMs: 120_000, intervalMs: 250, what: '/api/health/ready answering 200' })
  t.equal(ready.status, 200, '/api/health/ready answers 200')
  t.match(await ready.json(), { status: 'ok', checks: { redis: { ok: true }, postgres: { ok: true } } })

  const page = await fetch(`${base}/`)
  t.equal(page.status, 200, 'the user\'s page is served')
  t.match(page.headers.get('content-type'), /text\/html/)
  const script = await fetch(`${base}/assets/app.js`)
  t.equal(script.status, 200, 'the page\'s compiled script is in the image')
  t.notMatch(server.output(), /dist\/web is missing/)

  server.child.kill('SIGTERM')
  const stopped = await server.exited
  t.equal(stopped.code, 0, 'SIGTERM stops it with exit 0')
})
