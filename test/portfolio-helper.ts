// The app with the portfolio routes, users made cheaply, and a small client for the API.
import type { Test } from 'tap'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { hash } from '@node-rs/argon2'
import type { Env } from '../src/config/config.js'
import { adminSql, build, uniqueEmail } from './helper.js'
import { PASSWORD, browser, login, type LoggedIn } from './auth-helper.js'

/** build(t) with logins not rate-limited (these tests log in many users) */
export function buildWithPortfolio (t: Test, env: Env = {}): Promise<FastifyInstance> {
  return build(t, { RATE_LIMIT_LOGIN: '100000/15m', ...env })
}

// One argon2id hash shared by every test user, at a low cost: login verifies with the cost
// stored in the hash, so a hundred logins take milliseconds each instead of ~50 ms.
let cheapHash: Promise<string> | null = null
const testHash = (): Promise<string> => (cheapHash ??= hash(PASSWORD, { algorithm: 2, memoryCost: 1024, timeCost: 1, parallelism: 1 }))

/** n users inserted as the schema owner (no default portfolio), each logged in through the API */
export async function makeUsers (t: Test, app: FastifyInstance, n: number, opts: { tag?: string; role?: 'user' | 'admin' } = {}): Promise<LoggedIn[]> {
  const sql = adminSql(t)
  const passwordHash = await testHash()
  const emails = Array.from({ length: n }, () => uniqueEmail(opts.tag ?? 'pf'))
  await sql`insert into users ${sql(emails.map(email => ({ email, password_hash: passwordHash, role: opts.role ?? 'user' })))}`
  return Promise.all(emails.map(async email => {
    const user = await login(app, email)
    if (user.res.statusCode !== 200) throw new Error(`login failed: ${user.res.statusCode} ${user.res.body}`)
    return user
  }))
}

export async function makeUser (t: Test, app: FastifyInstance, opts: { tag?: string; role?: 'user' | 'admin' } = {}): Promise<LoggedIn> {
  const [user] = await makeUsers(t, app, 1, opts)
  return user!
}

export interface Client {
  get: (url: string) => Promise<LightMyRequestResponse>
  post: (url: string, payload?: unknown) => Promise<LightMyRequestResponse>
  patch: (url: string, payload?: unknown) => Promise<LightMyRequestResponse>
  del: (url: string) => Promise<LightMyRequestResponse>
}

/** requests as a browser carrying the user's session cookie from an allowed origin */
export function client (app: FastifyInstance, user: Pick<LoggedIn, 'cookie'>): Client {
  const send = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
    app.inject({ method, url, headers: browser(user.cookie), ...(payload === undefined ? {} : { payload: payload as object }) })
  return {
    get: url => send('GET', url),
    post: (url, payload) => send('POST', url, payload ?? {}),
    patch: (url, payload) => send('PATCH', url, payload ?? {}),
    del: url => send('DELETE', url)
  }
}

/** the JSON body of an expected status, or a thrown error naming what came instead */
export function expectJson<T = any> (res: LightMyRequestResponse, status: number): T {
  if (res.statusCode !== status) throw new Error(`expected ${status}, got ${res.statusCode}: ${res.body}`)
  return res.json() as T
}

export async function createPortfolio (c: Client, name: string): Promise<{ id: string; name: string }> {
  return expectJson(await c.post('/api/portfolios', { name }), 201)
}
