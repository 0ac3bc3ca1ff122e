// Which backing service an error says is unavailable: 'redis', 'postgres', or null for an error
// that is ours (a bug, bad input). One classifier for the error handler (503, never 500) and for
// the code that must tell "Redis refused the write" from "the query was wrong". It reads only the
// error's name, code and message, so core needs neither ioredis nor postgres.js.

export type Dependency = 'redis' | 'postgres'

type ErrorLike = Error & { code?: unknown; name?: string; lastNodeError?: unknown; dependency?: unknown }

// Redis reply errors of a server that cannot serve us right now: out of memory (noeviction),
// a replica after a failover, a cluster without quorum or in resharding (MOVED/ASK reaching the
// caller, TRYAGAIN), loading its dataset, busy in a script, a replica cut from its primary, a
// failing disk (MISCONF), a password or ACL changed under us. A script's error keeps the
// prefix ("OOM command not allowed … script: …"), and EXECABORT names the first refused command.
const REDIS_REFUSALS = /^(?:EXECABORT .*?)?(OOM|READONLY|CLUSTERDOWN|MOVED|ASK|TRYAGAIN|LOADING|BUSY|MASTERDOWN|NOREPLICAS|MISCONF|NOAUTH|WRONGPASS|NOPERM)\b/

// ioredis' own errors when no answer came: connection refused or dropped, the command timeout,
// the offline queue off, retries spent, a cluster that cannot find its slots
const REDIS_CLIENT_MESSAGES = /Stream isn't writeable|Connection is closed|Command timed out|Cluster isn't ready|Failed to refresh slots cache|Too many Cluster redirections|None of startup nodes is available|Connection in subscriber mode/
const REDIS_CLIENT_NAMES = new Set(['MaxRetriesPerRequestError', 'ClusterAllFailedError'])

// socket-level codes on the error itself: postgres.js passes its socket's errors through, while
// ioredis answers a command on a dead socket with its own messages (above)
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'])

// postgres.js codes of a connection that failed, and SQLSTATEs of a server that is going away or
// cannot take us: connection exceptions (08), insufficient resources such as too many clients
// (53), operator intervention such as a terminated backend or a shutdown (57P), a cancelled
// statement (57014: our statement timeout), and a database that does not exist (3D000)
const POSTGRES_CLIENT_CODES = new Set(['CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED'])
const POSTGRES_DOWN_STATES = /^(08|53|57P|57014$|3D000$)/

/** the dependency this error says is unavailable, or null when it is not a dependency failure */
export function unavailableDependency (err: unknown): Dependency | null {
  if (!(err instanceof Error)) return null
  const e = err as ErrorLike
  // an error of ours that already knows (a breaker's refusal, an unconfirmed revocation) says so
  if (e.dependency === 'redis' || e.dependency === 'postgres') return e.dependency
  const code = typeof e.code === 'string' ? e.code : ''
  if (e.name === 'PostgresError') return POSTGRES_DOWN_STATES.test(code) ? 'postgres' : null
  if (POSTGRES_CLIENT_CODES.has(code)) return 'postgres'
  if (e.name === 'ReplyError') return REDIS_REFUSALS.test(e.message) ? 'redis' : null
  if (REDIS_CLIENT_NAMES.has(e.name ?? '') || REDIS_CLIENT_MESSAGES.test(e.message)) return 'redis'
  if (SOCKET_CODES.has(code)) return 'postgres'
  // a cluster's redirection limit wraps the last node's reply; our own errors wrap theirs
  if (e.lastNodeError instanceof Error) return unavailableDependency(e.lastNodeError)
  if (e.cause instanceof Error) return unavailableDependency(e.cause)
  return null
}

/** true when `err` is a Redis failure (down, too slow, or refusing writes), not a bug of ours */
export const isRedisFailure = (err: unknown): boolean => unavailableDependency(err) === 'redis'
