// One open price socket and what the feed knows about it. The credential is kept in memory
// only, so the socket can be re-validated later; it is never logged or sent anywhere.
import type { WebSocket } from 'ws'

export type SocketCredential =
  | { kind: 'session'; userId: string; publicId: string; cookie: string; expiresAt: number }
  | { kind: 'legacy'; userId: string; jti: string; token: string; expiresAt: number }

export interface FeedClient {
  readonly id: string
  readonly ws: WebSocket
  credential: SocketCredential | null
  readonly symbols: Set<string>
  /** while the socket is slow: the latest frame per symbol, sent once it drains */
  pending: Map<string, string> | null
  slowSince: number
  badMessages: number
  badWindowStart: number
  missedPongs: number
  expiryTimer: NodeJS.Timeout | null
  authTimer: NodeJS.Timeout | null
  /** counted against the per-user limit in Redis */
  admitted: boolean
}

/** close codes of the feed (documented in the README) */
export const Close = {
  GOING_AWAY: 1001,
  POLICY: 1008,
  TOO_BIG: 1009,
  TRY_LATER: 1013,
  UNAUTHORIZED: 4401,
  AUTH_TIMEOUT: 4408,
  TOO_MANY_SOCKETS: 4429
} as const

/**
 * Closes with a code, and destroys the connection if the peer has not finished the closing
 * handshake within a second (a stalled reader never sees our close frame behind its backlog).
 */
export function closeSocket (client: FeedClient, code: number, reason: string): void {
  const ws = client.ws
  if (ws.readyState === ws.CLOSED) return
  if (ws.readyState !== ws.CLOSING) ws.close(code, reason)
  setTimeout(() => { if (ws.readyState !== ws.CLOSED) ws.terminate() }, 1000).unref()
}

export const errorFrame = (code: string, message: string): string => JSON.stringify({ type: 'error', code, message })
