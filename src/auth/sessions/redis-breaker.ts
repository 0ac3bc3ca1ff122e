// A circuit breaker (cockatiel) around the session store's Redis calls. After a few consecutive
// failures that mean "Redis is unreachable" it opens: calls fail at once, without touching the
// socket, and validation falls back to Postgres; every second one call probes Redis and closes it
// again. Without it every request would wait out the command timeout on a dead or stalled Redis.
import { BrokenCircuitError, ConsecutiveBreaker, CircuitState, circuitBreaker, handleWhen } from 'cockatiel'
import type { FastifyBaseLogger } from 'fastify'
import { Errors } from '../../core/errors.js'
// the one classifier of the house: connection, timeout, and every Redis refusal that means it cannot serve now
import { isRedisFailure as isRedisUnavailable } from '../../core/dependency-errors.js'

/** true for what RedisBreaker.run throws when Redis could not answer */
export function isUnavailableError (err: unknown): boolean {
  return err instanceof Error && (err as Error & { code?: string }).code === 'DEPENDENCY_UNAVAILABLE'
}

export interface RedisBreaker {
  /** runs `fn`; throws DEPENDENCY_UNAVAILABLE (503) when the breaker is open or Redis failed */
  run: <T>(fn: () => Promise<T>) => Promise<T>
  /** true while the breaker is open or half-open: Redis is known to be unreachable */
  readonly open: boolean
  /** called when Redis answers again after the breaker opened, with the time it opened (epoch ms) */
  onRecovered: (listener: (openedAt: number) => void) => void
}

export function createRedisBreaker (log: FastifyBaseLogger, { failures = 3, halfOpenAfterMs = 1000 } = {}): RedisBreaker {
  const policy = circuitBreaker(handleWhen(isRedisUnavailable), { halfOpenAfter: halfOpenAfterMs, breaker: new ConsecutiveBreaker(failures) })
  let openedAt = 0
  const listeners: ((openedAt: number) => void)[] = []
  // logged once per state change, not once per request
  policy.onBreak(() => {
    openedAt = Date.now()
    log.warn('sessions: Redis unreachable, validating from Postgres until it answers again')
  })
  policy.onReset(() => {
    log.info({ outageMs: Date.now() - openedAt }, 'sessions: Redis answers again')
    for (const listener of listeners) listener(openedAt)
  })
  return {
    async run (fn) {
      try {
        return await policy.execute(fn)
      } catch (err) {
        if (err instanceof BrokenCircuitError || isRedisUnavailable(err)) {
          // tagged, so the error handler logs it once per outage (core/dependency-log.ts)
          throw Object.assign(new Errors.DEPENDENCY_UNAVAILABLE(), { cause: err, dependency: 'redis' })
        }
        throw err
      }
    },
    get open () { return policy.state !== CircuitState.Closed },
    onRecovered: listener => { listeners.push(listener) }
  }
}
