// The Redis half of a revocation whose Postgres half is committed. Each step is tried even when
// an earlier one was refused (a full Redis still deletes, a down one fails everything), a refusal
// is remembered rather than thrown, and at the end the caller learns whether Redis confirmed it
// all. When it did not, the deny list stops trusting Redis (its marker is dropped), so every
// check of a legacy token asks Postgres, which already refuses it; the caller audits what was
// done and answers 503 REVOCATION_UNCONFIRMED instead of a 200 that would be a lie.
import { isRedisFailure } from '../core/dependency-errors.js'
import { revocationUnconfirmed, type DenyList } from './legacy/deny-list.js'

export interface RedisSteps {
  /** awaits one Redis step; a Redis failure is remembered and `fallback` returned, anything else thrown */
  run: <T>(step: Promise<T>, fallback: T) => Promise<T>
  /** null when Redis confirmed every step, else the 503 REVOCATION_UNCONFIRMED to throw */
  settle: () => Promise<Error | null>
}

export function redisSteps (denyList: DenyList): RedisSteps {
  let failure: unknown = null
  return {
    async run (step, fallback) {
      try {
        return await step
      } catch (err) {
        if (!isRedisFailure(err)) throw err
        failure ??= err
        return fallback
      }
    },
    async settle () {
      if (failure === null) return null
      await denyList.distrustRedis(failure)
      return revocationUnconfirmed(failure)
    }
  }
}
