// The run's report: one markdown document (stdout and latest.md) and one JSON file per scenario
// (<scenario>.json). Nothing in them names a path. Only a full run of every scenario writes
// them to the committed bench/results/; a quick or partial run writes to a temporary folder,
// so a smoke test (CI) never replaces the measured report with its own rough figures.
import os from 'node:os'
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { ScenarioResult } from './context.js'
import type { Measurement, RunStats } from './load.js'
import { evaluateTargets } from './targets.js'
import { roundsRatio, type SideRounds } from './rounds.js'
import { round } from './stats.js'

const RESULTS_DIR = new URL('../results/', import.meta.url)

/** where this run's report goes: bench/results/ for a full run of every scenario, else a fresh temporary folder */
export async function resultsDirFor (run: { quick: boolean; partial: boolean }): Promise<URL> {
  if (!run.quick && !run.partial) return RESULTS_DIR
  return pathToFileURL(await mkdtemp(join(os.tmpdir(), 'hallpass-bench-')) + '/')
}

export interface Machine {
  cores: number
  cpu: string
  memoryGiB: number
  node: string
  postgres: string
  redis: string
}

export interface RunInfo {
  mode: 'quick' | 'full'
  command: string
  startedAt: string
  wallS: number
  machine: Machine
  /** 1-minute load average before the first scenario and after the last: other work on the box */
  loadBefore: number
  loadAfter?: number
  /** share of all cores busy during 2 s just before the run (0 to 1) */
  busyBefore: number
  shape: { rounds: number; roundS: number }
}

/** above this, something else was using the cores when the run began */
const BUSY_SHARE = 0.25

export function machineOf (postgres: string, redis: string): Machine {
  const cpus = os.cpus()
  return {
    cores: cpus.length,
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    memoryGiB: round(os.totalmem() / 2 ** 30, 1),
    node: process.version,
    postgres,
    redis
  }
}

export async function writeScenario (dir: URL, run: Omit<RunInfo, 'wallS'>, result: ScenarioResult): Promise<void> {
  await mkdir(dir, { recursive: true })
  const body = { ...result, mode: run.mode, startedAt: run.startedAt, machine: run.machine }
  await writeFile(new URL(`${result.scenario}.json`, dir), JSON.stringify(body, null, 2) + '\n')
}

const n = (v: number): string => Math.round(v).toLocaleString('en')
const f = (v: number | undefined): string => v === undefined || Number.isNaN(v) ? '—' : String(round(v))
const trio = (s: RunStats): string => `${f(s.latencyMs.p50)} / ${f(s.latencyMs.p975)} / ${f(s.latencyMs.p99)}`

function table (head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map(r => `| ${r.join(' | ')} |`)].join('\n')
}

function throughputTable (ms: Measurement[], rounds: Map<string, SideRounds>): string {
  return table(
    ['target', 'req/s (median round)', 'req/s per round', 'CPU µs per request: server / Redis (median round)', 'p50 / p97.5 / p99 ms at saturation', 'offered req/s', 'p50 / p97.5 / p99 ms at half rate', 'errors', 'non-2xx'],
    ms.map(m => [
      m.label, n(m.saturation.reqPerSec), rounds.get(m.key)?.reqPerSec.map(n).join(', ') ?? '—',
      m.saturation.cpu ? `${f(m.saturation.cpu.serverUs)} / ${f(m.saturation.cpu.redisUs)}` : '—', trio(m.saturation),
      m.halfRate ? n(m.halfRate.offered) : '—', m.halfRate ? trio(m.halfRate) : '—',
      String(m.saturation.errors + (m.halfRate?.errors ?? 0)), String(m.saturation.non2xx + (m.halfRate?.non2xx ?? 0))
    ]))
}

/** ours ÷ the ceiling and each peer of the same rounds: median (min–max) */
function ratioTable (measurements: Map<string, Measurement>, rounds: Map<string, SideRounds>): string {
  const ours = ['session-validate:cache-on-1k', 'session-validate:cache-on-cold', 'session-validate:cache-off', 'session-validate:cache-off-cold'].filter(k => measurements.has(k))
  const others = [['ceiling', 'ceiling'], ['peer:redis-get', 'one-GET floor'], ['peer:fastify-session', '@fastify/session'], ['peer:fastify-jwt', '@fastify/jwt']] as const
  const cell = (a: string, b: string): string => {
    const r = roundsRatio(rounds, a, b)
    return r ? `${round(r.median)}× (${round(r.min)}–${round(r.max)})` : '—'
  }
  return table(
    ['ours', ...others.map(([, label]) => `÷ ${label}`)],
    ours.map(k => [measurements.get(k)!.label.replace(/^ours: /, ''), ...others.map(([o]) => cell(k, o))]))
}

type Pct = { count: number; p50: number; p99: number; max: number }

function stormTable (d: Record<string, unknown>): string {
  const login = d.loginLatencyMs as Pct
  const before = d.healthBeforeMs as Pct
  const during = d.healthDuringMs as Pct
  return table(
    ['logins', 'finished in', 'logins/s', 'login p50 / p99 ms', '/api/health p50 / p99 / max ms before', '/api/health p50 / p99 / max ms during (probes)'],
    [[String(d.logins), `${f(d.finishedS as number)} s`, f(d.loginsPerSec as number), `${f(login.p50)} / ${f(login.p99)}`,
      `${f(before.p50)} / ${f(before.p99)} / ${f(before.max)}`, `${f(during.p50)} / ${f(during.p99)} / ${f(during.max)} (${during.count})`]])
}

function revocationTable (d: Record<string, unknown>): string {
  const p = (v: unknown): string => { const q = v as Pct; return `${f(q.p50)} / ${f(q.p99)} / ${f(q.max)}` }
  const accepted = d.acceptedAfterRevoke as { same: number; cross: number }
  const bg = d.background as { offered: number; reqPerSec: number; p99Ms: number }
  return table(
    ['revocations', 'achieved /s', 'DELETE p50 / p99 / max ms', 'rejected on same instance after p50 / p99 / max ms', 'rejected across instances after p50 / p99 / max ms', 'accepted after revoke (same / across)', 'background req/s (p99 ms)'],
    [[String(d.revocations), f(d.achievedPerSec as number), p(d.revokeRequestMs), p(d.sameInstanceMs), p(d.crossInstanceMs),
      `${accepted.same} / ${accepted.cross}`, `${n(bg.reqPerSec)} of ${n(bg.offered)} offered (${f(bg.p99Ms)})`]])
}

export function renderReport (run: RunInfo, results: ScenarioResult[], measurements: Map<string, Measurement>, rounds: Map<string, SideRounds>): string {
  const m = run.machine
  const out: string[] = []
  out.push(`# hallpass bench — ${run.mode} run`)
  out.push('')
  out.push(`\`${run.command}\`, started ${run.startedAt}, took ${round(run.wallS, 0)} s. ` +
    `Machine: ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, Node ${m.node}, Postgres ${m.postgres}, Redis ${m.redis}; ` +
    'load generator, servers, Redis and Postgres share it. ' +
    `Before the run the cores were ${Math.round(run.busyBefore * 100)}% busy (2 s sample), 1-minute load average ${round(run.loadBefore)}` +
    `${run.loadAfter === undefined ? '' : `; after it ${round(run.loadAfter)}`}.`)
  if (run.busyBefore > BUSY_SHARE) out.push('', `_The machine was busy when this run began (${Math.round(run.busyBefore * 100)}% of ${m.cores} cores): other processes took CPU from it, so its figures, and even its ratios, are suspect._`)
  if (run.mode === 'quick') out.push('', '_Quick run: a smoke test of every scenario, a couple of seconds each. Its figures are not measurements._')

  out.push('', '## Targets', '')
  out.push(`Ratios: req/s at saturation, ours ÷ the other side, each side measured in the same interleaved rounds (${run.shape.rounds} rounds of ${run.shape.roundS} s per side, order reversed every other round); the figure is the median of the per-round ratios, with their min–max.`, '')
  out.push(table(['target', 'goal', 'measured (median)', 'min–max', 'rounds', 'result'], evaluateTargets(measurements, rounds, results).map(t => [t.target, t.goal, t.measured, t.spread, t.rounds, t.verdict])))

  out.push('', '## Throughput (-c 100) and latency (fixed rate, half the median throughput)', '')
  out.push(throughputTable([...measurements.values()], rounds))

  out.push('', '## Ours as a ratio of the ceiling and each peer (median of rounds, min–max)', '')
  out.push(ratioTable(measurements, rounds))

  const storm = results.find(r => r.scenario === 'login-storm' && r.details)
  if (storm?.details) out.push('', '## Login storm', '', stormTable(storm.details))
  const revoke = results.find(r => r.scenario === 'revocations' && r.details)
  if (revoke?.details) out.push('', '## Revocations', '', revocationTable(revoke.details))

  out.push('', '## Scenarios', '')
  out.push(table(['scenario', 'status', 'took', 'notes'], results.map(r => [
    r.scenario, r.status, r.wallS === undefined ? '—' : `${round(r.wallS, 0)} s`, r.notes.join('; ').replace(/\|/g, '\\|') || '—'
  ])))

  const problems = results.flatMap(r => r.problems)
  out.push('', '## Smoke check', '')
  out.push(problems.length ? problems.map(p => `- ${p}`).join('\n') : 'No errors, and no non-2xx where 2xx is expected.')
  return out.join('\n') + '\n'
}

export async function writeLatest (dir: URL, markdown: string): Promise<void> {
  await mkdir(dir, { recursive: true })
  await writeFile(new URL('latest.md', dir), markdown)
}
