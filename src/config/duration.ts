// Durations in the environment: a bare number is seconds (`900`); a unit makes it explicit
// (`500ms`, `30s`, `15m`, `24h`, `30d`).
export const DURATION_PATTERN = '^[0-9]+(ms|s|m|h|d)?$'

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** milliseconds, or null when the text is not a duration */
export function parseDuration (text: string): number | null {
  const m = /^([0-9]+)(ms|s|m|h|d)?$/.exec(text.trim())
  if (!m) return null
  const ms = Number(m[1]) * (UNIT_MS[m[2] ?? 's'] ?? 1000)
  return Number.isSafeInteger(ms) ? ms : null
}
