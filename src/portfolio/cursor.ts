// Opaque page cursors: base64url of a small JSON array holding the list's kind and the last
// row's sort key. Decoding checks every part against the form this server writes, so a
// forged or foreign cursor is a 400 and never reaches SQL as anything but a typed value.
import { Errors } from '../core/errors.js'
import { UUID_RE } from '../core/schemas.js'

// what the queries' to_char(... 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') writes: UTC, microseconds
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.\d{6}Z$/
const SYMBOL = /^[A-Z][A-Z0-9.-]{0,14}$/

/** (timestamp, id) of the last row of a page ordered by a timestamp then the id */
export interface TimeKey { at: string; id: string }

export interface Page<T> { items: T[]; nextCursor: string | null }

/** rows fetched with `limit + 1`: the extra row only says that another page exists */
export function toPage<T> (rows: readonly T[], limit: number, keyOf: (row: T) => unknown[], kind: string): Page<T> {
  const items = rows.slice(0, limit)
  const last = items[items.length - 1]
  return { items, nextCursor: rows.length > limit && last ? encode(kind, keyOf(last)) : null }
}

function encode (kind: string, key: unknown[]): string {
  return Buffer.from(JSON.stringify([kind, ...key])).toString('base64url')
}

function decode (cursor: string, kind: string): unknown[] {
  let parts: unknown
  try {
    parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    throw new Errors.INVALID_CURSOR()
  }
  if (!Array.isArray(parts) || parts[0] !== kind) throw new Errors.INVALID_CURSOR()
  return parts.slice(1)
}

// a real calendar instant: the pattern alone would let 2025-02-30 through to Postgres
function isRealInstant (s: string): boolean {
  const m = TIMESTAMP.exec(s)
  if (!m) return false
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number) as [number, number, number, number, number, number]
  const t = new Date(Date.UTC(y, mo - 1, d, h, mi, se))
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d &&
    t.getUTCHours() === h && t.getUTCMinutes() === mi && t.getUTCSeconds() === se
}

export function decodeTimeKey (cursor: string | undefined, kind: string): TimeKey | null {
  if (cursor === undefined) return null
  const key = decode(cursor, kind)
  const [at, id] = key
  if (key.length !== 2 || typeof at !== 'string' || typeof id !== 'string' || !isRealInstant(at) || !UUID_RE.test(id)) {
    throw new Errors.INVALID_CURSOR()
  }
  return { at, id }
}

export function decodeSymbolKey (cursor: string | undefined, kind: string): string | null {
  if (cursor === undefined) return null
  const key = decode(cursor, kind)
  const [symbol] = key
  if (key.length !== 1 || typeof symbol !== 'string' || !SYMBOL.test(symbol)) throw new Errors.INVALID_CURSOR()
  return symbol
}
