// Logs of a dependency outage in proportion to what changed, not to the traffic: the first 503
// that a dependency causes is logged once (error, with the cause's message, no stack), then one
// warn line per interval counts the requests answered 503 since, and the first interval without
// such a failure logs that it answers again. A 10 s Redis outage under load is a handful of
// lines instead of one error with a stack per request.
import type { FastifyBaseLogger } from 'fastify'
import type { Dependency } from './dependency-errors.js'

export interface DependencyLog {
  /** a request answered 503 because `dependency` failed with `err` */
  failed: (dependency: Dependency, err: Error) => void
  /** stops the timer; a dependency still down is reported one last time */
  close: () => void
}

interface Outage { since: number; answered: number; total: number }

export function createDependencyLog (log: FastifyBaseLogger, intervalMs: number): DependencyLog {
  const outages = new Map<Dependency, Outage>()
  let timer: NodeJS.Timeout | null = null

  const report = (): void => {
    const now = Date.now()
    for (const [dependency, outage] of outages) {
      if (outage.answered > 0) {
        log.warn({ dependency, answered503: outage.answered, intervalMs, downForMs: now - outage.since }, `${dependency} still unavailable: ${outage.answered} requests answered 503 in the last interval`)
        outage.answered = 0
      } else {
        // a whole interval without a failure it caused: it answers again
        log.info({ dependency, downForMs: now - outage.since, answered503: outage.total }, `${dependency} answers again`)
        outages.delete(dependency)
      }
    }
    if (outages.size === 0 && timer) {
      clearInterval(timer)
      timer = null
    }
  }

  return {
    failed (dependency, err) {
      const outage = outages.get(dependency)
      if (outage) {
        outage.answered++
        outage.total++
        return
      }
      outages.set(dependency, { since: Date.now(), answered: 0, total: 1 })
      const cause = err.cause instanceof Error ? err.cause : err
      // `reason`, not `err`: pino's error serializer would add the stack, which says nothing here
      log.error({ dependency, reason: { type: cause.name, message: cause.message, code: (cause as { code?: unknown }).code } }, `${dependency} unavailable: answering 503 until it recovers`)
      if (!timer) {
        timer = setInterval(report, intervalMs)
        timer.unref()
      }
    },
    close () {
      if (timer) clearInterval(timer)
      timer = null
      for (const [dependency, outage] of outages) {
        if (outage.answered > 0) log.warn({ dependency, answered503: outage.answered }, `${dependency} still unavailable at close: ${outage.answered} requests answered 503 since the last report`)
      }
      outages.clear()
    }
  }
}
