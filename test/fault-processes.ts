// Private redis-server and Postgres processes for the fault tests: started on free ports, owned by
// one test, and really killed, stalled, filled and restarted by it. The machine's shared servers
// are never touched. Each process is stopped and its data removed when the test ends.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createServer, type Socket } from 'node:net'
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { ensureDatabase } from '../src/infra/bootstrap.js'
import { migrate } from '../src/infra/migrate.js'
import { createSql, type Sql } from '../src/infra/db.js'
import { freePort, waitFor } from './helper.js'

const IS_ROOT = process.getuid?.() === 0

export interface RedisProcess {
  port: number
  url: string
  /** the process's pid while it runs */
  pid: () => number | undefined
  /** kills the server (SIGKILL by default) and waits until it has exited */
  kill: (signal?: NodeJS.Signals) => Promise<void>
  /** starts it again on the same port, empty (nothing is persisted) */
  start: () => Promise<void>
  /** SIGSTOP / SIGCONT: the port stays open but nothing is answered, like a stalled server */
  pause: () => void
  resume: () => void
  /** one redis-cli command against it; returns its output, trimmed */
  cli: (...args: string[]) => string
}

/** a redis-server on a free port, without persistence; `args` are extra server options */
export async function startRedis (t: Test, { args = [] }: { args?: string[] } = {}): Promise<RedisProcess> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'hallpass-redis-'))
  let proc: ChildProcess | undefined
  const cli = (...a: string[]): string =>
    spawnSync('redis-cli', ['-p', String(port), ...a], { encoding: 'utf8', timeout: 5000 }).stdout?.trim() ?? ''

  const start = async (): Promise<void> => {
    proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--dir', dir, ...args], { stdio: 'ignore' })
    await waitFor(() => cli('ping') === 'PONG', { intervalMs: 50, what: `redis-server on ${port}` })
  }
  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    const p = proc
    if (!p || p.exitCode !== null || p.signalCode !== null) return
    const exited = new Promise(resolve => p.once('exit', resolve))
    p.kill('SIGCONT')
    p.kill(signal)
    await exited
  }
  t.teardown(async () => {
    await kill()
    rmSync(dir, { recursive: true, force: true })
  })
  await start()
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid: () => proc?.pid,
    kill,
    start,
    pause: () => { proc?.kill('SIGSTOP') },
    resume: () => { proc?.kill('SIGCONT') },
    cli
  }
}

export interface PostgresProcess {
  port: number
  /** superuser URL of `database` (migrated) on this server */
  adminUrl: string
  /** the app role's URL of the same database */
  appUrl: string
  /** `pg_ctl stop -m immediate`: every connection is cut at once, like a crash */
  stopImmediate: () => Promise<void>
  /** starts it again on the same port with the same data */
  start: () => Promise<void>
  /** one psql command as the superuser; returns its output, trimmed */
  psql: (sql: string) => string
}

function pgBin (): string | undefined {
  let dirs: string[] = []
  try { dirs = readdirSync('/usr/lib/postgresql') } catch { return undefined }
  const versions = dirs.filter(d => /^\d+$/.test(d)).sort((a, b) => Number(a) - Number(b))
  const last = versions.at(-1)
  return last ? `/usr/lib/postgresql/${last}/bin` : undefined
}

/** true when initdb and pg_ctl are installed (Debian's layout), so the Postgres fault tests can run */
export const hasPostgresBinaries = pgBin() !== undefined

/**
 * runs a Postgres binary; as root, as the postgres OS user (initdb and postgres refuse root).
 * Asynchronous: a test's app keeps its event loop running while Postgres stops or starts, as it
 * would in production (a synchronous wait would freeze its timers and sockets meanwhile).
 */
async function asPostgres (cmd: string, args: string[]): Promise<{ status: number | null, output: string }> {
  const [file, argv] = IS_ROOT ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]
  const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => { output += String(chunk) })
  child.stderr.on('data', (chunk: Buffer) => { output += String(chunk) })
  const [status] = await once(child, 'close') as [number | null]
  return { status, output }
}

/** a private Postgres cluster (trust auth, fsync off: a killed process loses nothing, only a machine crash would) on a free port, with `database` created and migrated */
export async function startPostgres (t: Test, { database = 'hallpass' }: { database?: string } = {}): Promise<PostgresProcess> {
  const bin = pgBin()
  if (!bin) throw new Error('Postgres server binaries not found under /usr/lib/postgresql')
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'hallpass-pg-'))
  const data = join(dir, 'data')
  if (IS_ROOT) {
    chmodSync(dir, 0o777)
    spawnSync('chown', ['postgres:', dir])
  }
  const init = await asPostgres(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'])
  if (init.status !== 0) throw new Error(`initdb failed: ${init.output}`)

  const start = async (): Promise<void> => {
    const r = await asPostgres(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'pg.log'), '-w', '-t', '30', '-o',
      `-c listen_addresses=127.0.0.1 -p ${port} -k '' -c fsync=off`, 'start'])
    if (r.status !== 0) throw new Error(`pg_ctl start failed: ${r.output}`)
  }
  const stop = async (mode: 'immediate' | 'fast'): Promise<void> => {
    await asPostgres(join(bin, 'pg_ctl'), ['-D', data, '-m', mode, '-w', '-t', '30', 'stop'])
  }
  t.teardown(async () => {
    await stop('immediate')
    rmSync(dir, { recursive: true, force: true })
  })
  await start()
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/${database}`
  await ensureDatabase(adminUrl)
  await migrate(adminUrl)
  return {
    port,
    adminUrl,
    appUrl: `postgres://hallpass_app@127.0.0.1:${port}/${database}`,
    stopImmediate: () => stop('immediate'),
    start,
    psql: (sql: string) => spawnSync('psql', ['-X', '-q', '-A', '-t', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', database, '-c', sql],
      { encoding: 'utf8', timeout: 30_000 }).stdout?.trim() ?? ''
  }
}

/**
 * An app pool (one connection, 1 s statement timeout) on a listener that takes the connection and
 * never answers, like a Postgres behind a dead link: every query waits until it is given up.
 */
export async function silentPostgresSql (t: Test): Promise<Sql> {
  const sockets = new Set<Socket>()
  const silent = createServer(socket => { sockets.add(socket) })
  silent.listen(0, '127.0.0.1')
  await once(silent, 'listening')
  const { port } = silent.address() as { port: number }
  const sql = createSql(`postgres://hallpass_app@127.0.0.1:${port}/hallpass_test`, { max: 1, statementTimeoutMs: 1000 })
  t.teardown(async () => {
    await sql.end({ timeout: 0 })
    for (const s of sockets) s.destroy()
    silent.close()
  })
  return sql
}
