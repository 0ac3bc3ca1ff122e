// The steps every throughput scenario repeats: start a process, check that one request gets
// the expected answer (a 401 at 30k req/s measures nothing), measure, stop the process.
import type { Child } from './processes.js'
import type { RunContext, Scenario, ScenarioResult } from './context.js'
import { measure, problemsOf, type Measurement, type RequestSpec } from './load.js'
import { keepAliveAgent, send, type Reply } from './http.js'

/** runs fn with the child, and stops the child whatever happens */
export async function withChild<T> (start: Promise<Child>, fn: (child: Child) => Promise<T>): Promise<T> {
  const child = await start
  try {
    return await fn(child)
  } finally {
    await child.stop()
  }
}

/** one request with the first header set (and body) of the spec */
export async function firstReply (url: string, spec: RequestSpec): Promise<Reply> {
  const agent = keepAliveAgent(1)
  try {
    return await send(agent, url + spec.path, {
      method: spec.method ?? 'GET',
      headers: spec.headerSets[0] ?? {},
      ...(spec.bodies?.[0] !== undefined ? { body: spec.bodies[0] } : {})
    })
  } finally {
    agent.destroy()
  }
}

/** checks the first answer is 2xx, then measures and records the result in the run */
export async function measureTarget (
  ctx: RunContext, child: Child, key: string, label: string, kind: Measurement['kind'], spec: RequestSpec
): Promise<Measurement> {
  const reply = await firstReply(child.url, spec)
  if (reply.status < 200 || reply.status > 299) {
    throw new Error(`${label}: the first request answered ${reply.status}, expected 2xx: ${reply.body.slice(0, 200)}`)
  }
  console.error(`bench:   ${label}`)
  const m = await measure(key, label, kind, child.url, spec, ctx.shape)
  if (problemsOf(m).length) m.serverLog = child.logTail(3).map(line => line.slice(0, 300))
  ctx.measurements.set(key, m)
  return m
}

export function scenarioResult (
  scenario: Pick<Scenario, 'name' | 'title'>, measurements: Measurement[], notes: string[] = [], extra: Partial<ScenarioResult> = {}
): ScenarioResult {
  return {
    scenario: scenario.name,
    title: scenario.title,
    status: 'ok',
    notes,
    measurements,
    ...extra,
    problems: [...measurements.flatMap(problemsOf), ...(extra.problems ?? [])]
  }
}
