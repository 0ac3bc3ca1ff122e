// Readiness checks of the backing services, each bounded by a short timeout so a dead
// dependency answers "down" quickly instead of hanging the probe.
import type { FastifyInstance } from 'fastify'

export type CheckResult = { ok: true } | { ok: false; reason: string }

function withTimeout<T> (p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms)
  })
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer))
}

export async function checkRedis (app: FastifyInstance, ms = 1000): Promise<CheckResult> {
  try {
    const pong = await withTimeout(app.redis.ping(), ms, 'redis')
    return pong === 'PONG' ? { ok: true } : { ok: false, reason: `unexpected reply ${pong}` }
  } catch (err) {
    return { ok: false, reason: (err as Error).message }
  }
}

export async function checkPostgres (app: FastifyInstance, ms = 1000): Promise<CheckResult> {
  try {
    const [row] = await withTimeout(app.db.sql`select 1 as ok`, ms, 'postgres')
    return row?.ok === 1 ? { ok: true } : { ok: false, reason: 'unexpected reply' }
  } catch (err) {
    const e = err as Error & { code?: string }
    return { ok: false, reason: e.code ? `${e.code}: ${e.message}` : e.message }
  }
}
