// Where prices come from. The feed asks a PriceSource for the next prices on every tick; the
// simulated one is a random walk in whole cents, so a price is always an exact decimal string
// (no binary floating point reaches a client).
export interface PriceSource {
  readonly symbols: readonly string[]
  /** continue from these prices (a new leader picks up where the last one stopped) */
  resume: (prices: ReadonlyMap<string, string>) => void
  /** the next price of every symbol, as decimal strings */
  next: () => [symbol: string, price: string][]
}

const MIN_CENTS = 100 // a walk never falls below 1.00

function centsToDecimal (cents: number): string {
  const whole = Math.floor(cents / 100)
  const rest = cents % 100
  return `${whole}.${rest < 10 ? '0' : ''}${rest}`
}

function decimalToCents (price: string): number | null {
  const m = /^([0-9]{1,12})\.([0-9]{2})$/.exec(price)
  return m ? Number(m[1]) * 100 + Number(m[2]) : null
}

/** a random walk: each tick moves each price by up to ±0.2 %, at least one cent */
export function createRandomWalk (symbols: readonly string[], random: () => number = Math.random): PriceSource {
  const cents = new Map<string, number>()
  for (const s of symbols) cents.set(s, 5_000 + Math.floor(random() * 45_000))
  return {
    symbols,
    resume (prices) {
      for (const [symbol, price] of prices) {
        const c = decimalToCents(price)
        if (c !== null && cents.has(symbol)) cents.set(symbol, c)
      }
    },
    next () {
      const out: [string, string][] = []
      for (const [symbol, c] of cents) {
        const step = Math.max(1, Math.round(c * 0.002 * random()))
        const moved = Math.max(MIN_CENTS, random() < 0.5 ? c - step : c + step)
        cents.set(symbol, moved)
        out.push([symbol, centsToDecimal(moved)])
      }
      return out
    }
  }
}
