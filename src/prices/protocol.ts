// What a client may send, read defensively: anything else is answered with an error frame.
export const MAX_SYMBOLS_PER_SOCKET = 50

export type ClientMessage =
  | { type: 'subscribe' | 'unsubscribe'; symbols: string[] }
  | { type: 'auth'; token: string }

export type Parsed = { ok: true; message: ClientMessage } | { ok: false; code: string; message: string }

const bad = (code: string, message: string): Parsed => ({ ok: false, code, message })

export function parseClientMessage (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean, known: ReadonlySet<string>): Parsed {
  if (isBinary) return bad('WS_BAD_MESSAGE', 'send JSON text frames')
  let value: unknown
  try {
    value = JSON.parse(Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8'))
  } catch {
    return bad('WS_BAD_MESSAGE', 'not JSON')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad('WS_BAD_MESSAGE', 'expected an object with a type')
  const m = value as Record<string, unknown>
  if (m.type === 'auth') {
    if (typeof m.token !== 'string' || m.token.length === 0 || m.token.length > 4096) return bad('WS_BAD_MESSAGE', 'auth needs a token')
    return { ok: true, message: { type: 'auth', token: m.token } }
  }
  if (m.type !== 'subscribe' && m.type !== 'unsubscribe') return bad('WS_BAD_MESSAGE', 'type must be subscribe, unsubscribe or auth')
  if (!Array.isArray(m.symbols) || m.symbols.length === 0 || !m.symbols.every(s => typeof s === 'string')) {
    return bad('WS_BAD_MESSAGE', 'symbols must be a non-empty array of strings')
  }
  if (m.symbols.length > MAX_SYMBOLS_PER_SOCKET) return bad('WS_TOO_MANY_SYMBOLS', `at most ${MAX_SYMBOLS_PER_SOCKET} symbols per socket`)
  const unknown = (m.symbols as string[]).find(s => !known.has(s))
  if (unknown !== undefined) return bad('PRICES_UNKNOWN_SYMBOL', `unknown symbol: ${unknown.slice(0, 16)}`)
  return { ok: true, message: { type: m.type, symbols: [...new Set(m.symbols as string[])] } }
}
