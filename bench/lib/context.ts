// What a scenario is handed (the run's settings, seeded data, clients) and what it returns.
import type postgres from 'postgres'
import type { Redis } from 'ioredis'
import type { SessionStore } from '../../src/auth/sessions/store.js'
import type { BenchEnv } from './bench-env.js'
import type { LoadShape, Measurement } from './load.js'
import type { Seed } from './seed.js'
import type { SideRounds } from './rounds.js'

export interface RunContext {
  quick: boolean
  shape: LoadShape
  bench: BenchEnv
  seed: Seed
  /** signed cookie values of the @fastify/session peer's sessions */
  fastifySessionCookies: string[]
  /** the owner's connection to the bench database */
  sql: postgres.Sql
  redis: Redis
  /** the server's session store on the bench prefix */
  store: SessionStore
  /** every measurement of this run so far, by key: ratios are computed within one run only */
  measurements: Map<string, Measurement>
  /** per-round throughputs of the sides measured in interleaved rounds, by measurement key */
  rounds: Map<string, SideRounds>
}

type ScenarioStatus = 'ok' | 'skipped' | 'pending' | 'failed'

export interface ScenarioResult {
  scenario: string
  title: string
  status: ScenarioStatus
  notes: string[]
  measurements: Measurement[]
  /** figures that are not a throughput run (login storm, revocations, server metrics) */
  details?: Record<string, unknown>
  /** what the smoke check refuses: errors, unexpected non-2xx, a broken setup */
  problems: string[]
  wallS?: number
}

export interface Scenario {
  name: string
  title: string
  run: (ctx: RunContext) => Promise<ScenarioResult>
}
