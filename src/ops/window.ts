// A sliding five-minute window of auth requests and auth errors, fed by the same hook that
// increments hallpass_auth_requests_total / hallpass_auth_errors_total: one slot per second,
// so "the last 5 minutes" is exact to the second without keeping every request.
const SLOTS = 300

export interface ErrorWindow {
  record: (isError: boolean, now?: number) => void
  /** requests and errors in the last five minutes */
  totals: (now?: number) => { requests: number; errors: number }
}

export function createErrorWindow (): ErrorWindow {
  const requests = new Array<number>(SLOTS).fill(0)
  const errors = new Array<number>(SLOTS).fill(0)
  const second = new Array<number>(SLOTS).fill(-1)
  const slot = (now: number): number => {
    const s = Math.floor(now / 1000)
    const i = s % SLOTS
    if (second[i] !== s) { second[i] = s; requests[i] = 0; errors[i] = 0 }
    return i
  }
  return {
    record (isError, now = Date.now()) {
      const i = slot(now)
      requests[i]!++
      if (isError) errors[i]!++
    },
    totals (now = Date.now()) {
      const oldest = Math.floor(now / 1000) - SLOTS + 1
      let r = 0
      let e = 0
      for (let i = 0; i < SLOTS; i++) {
        if (second[i]! >= oldest) { r += requests[i]!; e += errors[i]! }
      }
      return { requests: r, errors: e }
    }
  }
}
