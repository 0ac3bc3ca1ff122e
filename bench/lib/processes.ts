// Child processes of the bench: the built server and the peers. Every child is tracked from
// spawn to exit, and killed on the bench's exit, error or SIGINT, so no server outlives a run.
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import type { Env } from '../../src/config/config.js'
import type { BenchEnv } from './bench-env.js'
import { send, keepAliveAgent } from './http.js'

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

export interface Child {
  name: string
  port: number
  url: string
  /** the process id (the ws-fanout scenario reads its resident memory) */
  pid: number
  /** SIGTERM, then SIGKILL if it has not exited within 12 s */
  stop: () => Promise<void>
  /** the last lines it wrote (stdout and stderr), to explain a failure */
  logTail: (lines: number) => string[]
}

const running = new Set<ChildProcess>()
const TAIL_CHARS = 4000

/** a port the OS just handed out and took back; free unless something races us for it */
function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address()
      const port = typeof address === 'object' && address ? address.port : 0
      srv.close(() => resolve(port))
    })
  })
}

function exited (proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve()
  return new Promise(resolve => proc.once('exit', () => resolve()))
}

async function waitReady (proc: ChildProcess, url: string, tail: () => string, name: string): Promise<void> {
  const agent = keepAliveAgent(1)
  const deadline = Date.now() + 30_000
  try {
    while (Date.now() < deadline) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(`${name} exited (${proc.exitCode ?? proc.signalCode}) before answering:\n${tail()}`)
      }
      try {
        const reply = await send(agent, url, { timeoutMs: 1000 })
        if (reply.status < 500) return
      } catch {
        // not listening yet
      }
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    throw new Error(`${name} did not answer ${new URL(url).pathname} within 30 s:\n${tail()}`)
  } finally {
    agent.destroy()
  }
}

async function start (name: string, args: string[], env: NodeJS.ProcessEnv, port: number, readyPath: string): Promise<Child> {
  // stdin is a pipe the peers watch: when the bench dies, it closes and they exit
  const proc = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] })
  running.add(proc)
  proc.once('exit', () => running.delete(proc))
  let output = ''
  const keep = (chunk: Buffer): void => { output = (output + chunk.toString()).slice(-TAIL_CHARS) }
  proc.stdout?.on('data', keep)
  proc.stderr?.on('data', keep)
  const url = `http://127.0.0.1:${port}`
  try {
    await waitReady(proc, url + readyPath, () => output, name)
  } catch (err) {
    await kill(proc)
    throw err
  }
  return {
    name,
    port,
    url,
    pid: proc.pid ?? 0,
    stop: () => kill(proc),
    logTail: lines => output.split('\n').filter(Boolean).slice(-lines)
  }
}

async function kill (proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return
  proc.kill('SIGTERM')
  const timer = setTimeout(() => proc.kill('SIGKILL'), 12_000)
  await exited(proc)
  clearTimeout(timer)
}

function childEnv (extra: Env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra }
  // the built server runs on plain node: no loader that tsx may have put here
  delete env.NODE_OPTIONS
  for (const [k, v] of Object.entries(extra)) if (v === undefined) delete env[k]
  return env
}

/**
 * `node dist/src/server.js` with the bench environment. `extra` overrides it; a key set to
 * undefined is removed, so the server falls back to its own default (e.g. SESSION_CACHE_TTL).
 */
export async function startServer (bench: BenchEnv, name: string, extra: Env = {}, nodeArgs: string[] = []): Promise<Child> {
  const port = await freePort()
  const env = childEnv({ ...bench.server, ...extra, PORT: String(port) })
  return start(name, [...nodeArgs, 'dist/src/server.js'], env, port, '/api/health')
}

/** a peer from bench/peers, run by tsx's loader (transpiled once at load, then plain node) */
export async function startPeer (file: string, extra: Env, readyPath = '/api/health', nodeArgs: string[] = []): Promise<Child> {
  const port = await freePort()
  const env = childEnv({ ...extra, PORT: String(port), NODE_ENV: 'production' })
  return start(file, [...nodeArgs, '--import', 'tsx', `bench/peers/${file}`], env, port, readyPath)
}

export async function stopAll (): Promise<void> {
  await Promise.all([...running].map(kill))
}

/** kills every child on exit, error and SIGINT/SIGTERM */
export function installCleanup (): void {
  process.once('exit', () => {
    for (const proc of running) proc.kill('SIGKILL')
  })
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\nbench: ${signal}, stopping ${running.size} child process(es)`)
      stopAll().finally(() => process.exit(130))
    })
  }
}
