// Registering and logging in through the HTTP API, as a browser would.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { uniqueEmail } from './helper.js'

export const ORIGIN = 'http://localhost:3000'
export const PASSWORD = 'correct horse battery staple 42'
export const UA_FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'
export const UA_CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36'

export interface LoggedIn {
  userId: string
  email: string
  password: string
  /** the `name=value` pair to send back */
  cookie: string
  token: string
}

export function sessionCookieOf (res: LightMyRequestResponse, name = 'sid'): { value: string; raw: string } | null {
  const header = res.headers['set-cookie']
  const all = Array.isArray(header) ? header : header ? [header] : []
  const raw = all.find(c => c.startsWith(name + '='))
  if (!raw) return null
  return { value: raw.slice(name.length + 1).split(';')[0]!, raw }
}

/** headers of a browser request carrying the session cookie from our own origin */
export function browser (cookie: string, extra: Record<string, string> = {}): Record<string, string> {
  return { cookie, origin: ORIGIN, 'user-agent': UA_FIREFOX, ...extra }
}

export async function register (app: FastifyInstance, email = uniqueEmail(), password = PASSWORD): Promise<LoggedIn> {
  const res = await app.inject({ method: 'POST', url: '/api/auth/register', headers: { origin: ORIGIN, 'user-agent': UA_FIREFOX }, payload: { email, password } })
  if (res.statusCode !== 201) throw new Error(`register failed: ${res.statusCode} ${res.body}`)
  // at a rollout percentage below 100 the user may get legacy tokens instead of a cookie
  const c = sessionCookieOf(res, app.config.session.cookieName)
  return { userId: res.json().user.id, email, password, token: c?.value ?? '', cookie: c ? `${app.config.session.cookieName}=${c.value}` : '' }
}

export async function login (app: FastifyInstance, email: string, password = PASSWORD, headers: Record<string, string> = {}): Promise<LoggedIn & { res: LightMyRequestResponse }> {
  const res = await app.inject({ method: 'POST', url: '/api/auth/login', headers: { origin: ORIGIN, 'user-agent': UA_FIREFOX, ...headers }, payload: { email, password } })
  const c = sessionCookieOf(res, app.config.session.cookieName)
  return { res, userId: res.statusCode === 200 ? res.json().user.id : '', email, password, token: c?.value ?? '', cookie: c ? `${app.config.session.cookieName}=${c.value}` : '' }
}

export const me = (app: FastifyInstance, cookie: string) =>
  app.inject({ method: 'GET', url: '/api/auth/me', headers: browser(cookie) })
