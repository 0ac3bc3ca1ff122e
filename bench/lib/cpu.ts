// CPU time per request, the figure that holds still where req/s drifts with the machine: the
// server process's own (Linux /proc/<pid>/stat, user + system, 10 ms ticks) and Redis' own
// (INFO cpu), read just before and after a run and divided by the requests it completed.
import { readFile, readdir } from 'node:fs/promises'
import type { Redis } from 'ioredis'

export interface CpuReading { processUs: number; redisUs: number }
export interface CpuPerRequest { serverUs: number; redisUs: number }

/** user + system CPU time of a process so far, in µs */
export async function processCpuUs (pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10_000
}

/** Redis' own CPU time so far, in µs */
export async function redisCpuUs (redis: Redis): Promise<number> {
  const info = await redis.info('cpu')
  const used = (name: string): number => Number(new RegExp(`${name}:([0-9.]+)`).exec(info)?.[1] ?? 0)
  return (used('used_cpu_user') + used('used_cpu_sys')) * 1e6
}

/** CPU time so far of every postgres process of this machine (the server and its backends), in µs */
export async function postgresCpuUs (): Promise<number> {
  let total = 0
  for (const pid of (await readdir('/proc')).filter(d => /^\d+$/.test(d))) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')
    if (/^\d+ \(postgres\) /.test(stat)) total += await processCpuUs(Number(pid)).catch(() => 0)
  }
  return total
}

export async function cpuReading (pid: number, redis: Redis): Promise<CpuReading> {
  return { processUs: await processCpuUs(pid), redisUs: await redisCpuUs(redis) }
}

export function cpuPerRequest (before: CpuReading, after: CpuReading, requests: number): CpuPerRequest {
  const per = (us: number): number => requests > 0 ? Math.round(10 * us / requests) / 10 : NaN
  return { serverUs: per(after.processUs - before.processUs), redisUs: per(after.redisUs - before.redisUs) }
}
