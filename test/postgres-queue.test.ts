// postgres.js keeps its pool's connections and queries in a small Queue (src/queue.js). Unpatched,
// the slots that shift() empties stay at the front of its array until the queue empties through
// shift() again, which a pool's busy queue under sustained load never does (its connections leave
// it through remove()): the array grew by one slot per pipelined query, and every connection move
// scanned all of them with indexOf — 29 µs of client CPU per `select 1` after 2 s of load, 80 µs
// after 14 s (100 concurrent loops on a pool of 10). patches/postgres+3.4.7.patch searches from
// the head and drops the empty slots. This holds the patched queue to a plain array's behaviour
// under random operations, and the slots it scans to the live ones, for both builds it ships.
import t from 'tap'

interface Queue<T> { readonly length: number; push: (x: T) => T; shift: () => T | undefined; remove: (x: T) => T | null }
type QueueFactory = <T>(initial?: T[]) => Queue<T>

const builds = {
  esm: async (): Promise<QueueFactory> => (await import(new URL('../node_modules/postgres/src/queue.js', import.meta.url).href)).default,
  cjs: async (): Promise<QueueFactory> => (await import(new URL('../node_modules/postgres/cjs/src/queue.js', import.meta.url).href)).default
}

/** a small seeded generator, so a failure can be replayed */
function random (seed: number): () => number {
  let s = seed
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31
    return s / 2 ** 31
  }
}

/** the largest number of array slots one indexOf call was asked to scan while fn ran */
function widestScan (fn: () => void): number {
  const original = Array.prototype.indexOf
  let widest = 0
  // eslint-disable-next-line no-extend-native -- the only way to see the queue's private array scans; restored below
  Array.prototype.indexOf = function (this: unknown[], ...args: [unknown, number?]) {
    widest = Math.max(widest, this.length - (args[1] ?? 0))
    return original.apply(this, args)
  }
  try {
    fn()
  } finally {
    // eslint-disable-next-line no-extend-native -- restores the original
    Array.prototype.indexOf = original
  }
  return widest
}

for (const [name, load] of Object.entries(builds)) {
  t.test(`${name}: the queue answers as a plain array does, under 20 runs of random push, shift and remove`, async t => {
    const Queue = await load()
    let mismatches = 0
    for (let run = 0; run < 20; run++) {
      const next = random(run + 1)
      const q = Queue<number>()
      const model: number[] = []
      let id = 0
      for (let op = 0; op < 5000; op++) {
        const r = next()
        if (r < 0.45) {
          q.push(id)
          model.push(id++)
        } else if (r < 0.75) {
          if (q.shift() !== model.shift()) mismatches++
        } else {
          // an element that is there, or one that left already
          const x = Math.floor(next() * (id + 1))
          const at = model.indexOf(x)
          const expected = at === -1 ? null : model.splice(at, 1)[0]!
          if (q.remove(x) !== expected) mismatches++
        }
        if (q.length !== model.length) mismatches++
      }
      while (model.length) if (q.shift() !== model.shift()) mismatches++
      if (q.length !== 0) mismatches++
    }
    t.equal(mismatches, 0, 'every shift, remove and length as the model says')
  })

  t.test(`${name}: a busy queue that never empties scans only its live slots, however long it runs`, async t => {
    const Queue = await load()
    const connections = Array.from({ length: 10 }, (_, i) => ({ i }))
    const busy = Queue<{ i: number }>()
    for (const c of connections) busy.push(c)
    const next = random(7)
    // the pool's pattern under load: a query pipelined onto the first busy connection (shift,
    // then back to the end), and a connection that finished moving out and back in (remove, push)
    const widest = widestScan(() => {
      for (let op = 0; op < 100_000; op++) {
        busy.push(busy.shift()!)
        const c = connections[Math.floor(next() * connections.length)]!
        busy.remove(c)
        busy.push(c)
      }
    })
    t.equal(busy.length, 10, 'the ten connections are all still there')
    t.ok(widest <= 2 * 1024 + 10, `an indexOf scanned at most ${widest} slots (unpatched: one more per pipelined query)`)
  })
}
