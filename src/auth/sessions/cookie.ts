// The session cookie: HttpOnly, SameSite=Lax, Path=/, and Secure with the `__Host-` prefix
// whenever it is Secure (production). It lives until the absolute expiry; the idle timeout
// is enforced by Redis.
import type { FastifyReply } from 'fastify'
import type { Config } from '../../config/config.js'

export function setSessionCookie (reply: FastifyReply, config: Config, token: string, absoluteExpiresAt: number): void {
  reply.setCookie(config.session.cookieName, token, {
    httpOnly: true,
    sameSite: 'lax',
    path: '/',
    secure: config.session.cookieSecure,
    expires: new Date(absoluteExpiresAt)
  })
}

export function clearSessionCookie (reply: FastifyReply, config: Config): void {
  reply.clearCookie(config.session.cookieName, {
    httpOnly: true,
    sameSite: 'lax',
    path: '/',
    secure: config.session.cookieSecure
  })
}
