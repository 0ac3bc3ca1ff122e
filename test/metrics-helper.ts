// Reading /metrics the way Prometheus does: the scrape's text, and one sample of it.
import type { FastifyInstance } from 'fastify'

/** the values of the sample lines of a Prometheus text exposition that carry these labels */
function samples (text: string, name: string, labels: Record<string, string>): number[] {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`)
  const found: number[] = []
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue
    const m = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})? (\S+)$/.exec(line)
    if (!m || m[1] !== name) continue
    const have = (m[3] ?? '').split(',')
    if (want.every(w => have.includes(w))) found.push(Number(m[4]))
  }
  return found
}

/** the value of the first sample line that carries these labels (0 when absent) */
export const sample = (text: string, name: string, labels: Record<string, string> = {}): number =>
  samples(text, name, labels)[0] ?? 0

/** the sum over every series that carries these labels, as PromQL's sum() (0 when absent) */
const total = (text: string, name: string, labels: Record<string, string> = {}): number =>
  samples(text, name, labels).reduce((a, b) => a + b, 0)

export async function scrape (app: FastifyInstance): Promise<string> {
  const res = await app.inject({ method: 'GET', url: '/metrics' })
  if (res.statusCode !== 200) throw new Error(`scrape ${res.statusCode}`)
  return res.body
}

/** how much the series with these labels moved, summed, between two scrapes */
export const moved = (before: string, after: string, name: string, labels: Record<string, string> = {}): number =>
  total(after, name, labels) - total(before, name, labels)
