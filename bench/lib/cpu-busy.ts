// How busy the cores are before the run starts, from the kernel's CPU time counters: a run
// that begins while something else is using the two cores measures that something too.
import os from 'node:os'

function totals (): { busy: number; all: number } {
  let busy = 0
  let all = 0
  for (const { times } of os.cpus()) {
    const sum = times.user + times.nice + times.sys + times.irq + times.idle
    all += sum
    busy += sum - times.idle
  }
  return { busy, all }
}

/** the busy share of all cores (0 to 1) over the next `ms` */
export async function cpuBusy (ms: number): Promise<number> {
  const a = totals()
  await new Promise(resolve => setTimeout(resolve, ms))
  const b = totals()
  return b.all > a.all ? (b.busy - a.busy) / (b.all - a.all) : 0
}
