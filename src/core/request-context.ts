// What every audit row and session record of a request says about its caller: the address and
// the user agent. In core because auth and audit both need it and neither may import the other
// sideways.
import { isIP } from 'node:net'

/** the caller's address and user agent, as every audit row of a request records them */
export function requestContext (request: { ip: string; headers: { 'user-agent'?: string | undefined } }): { ip: string; userAgent: string | null } {
  return { ip: request.ip, userAgent: request.headers['user-agent'] ?? null }
}

// inet takes neither a zone id (fe80::1%eth0) nor garbage: such an address is stored as null
export function normalizeIp (ip: string | null | undefined): string | null {
  if (typeof ip !== 'string') return null
  const address = ip.split('%', 1)[0]!
  return isIP(address) ? address : null
}
