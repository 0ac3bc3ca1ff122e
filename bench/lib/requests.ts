// The header sets the scenarios rotate through: built once, before a run, so the load
// generator only picks one per request.
import { USER_AGENT } from './bench-env.js'

export type HeaderSet = Record<string, string>

export const plainHeaders: HeaderSet[] = [{ 'user-agent': USER_AGENT }]

export function cookieHeaders (cookieName: string, values: readonly string[]): HeaderSet[] {
  return values.map(v => ({ 'user-agent': USER_AGENT, cookie: `${cookieName}=${v}` }))
}

export function bearerHeaders (tokens: readonly string[]): HeaderSet[] {
  return tokens.map(t => ({ 'user-agent': USER_AGENT, authorization: `Bearer ${t}` }))
}

/** a, b, a, b, … : every other request of each */
export function interleave<T> (a: readonly T[], b: readonly T[]): T[] {
  const out: T[] = []
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (i < a.length) out.push(a[i]!)
    if (i < b.length) out.push(b[i]!)
  }
  return out
}
