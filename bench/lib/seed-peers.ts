// Seeds what the peers read, for the same users and the same number of sessions as ours:
// one plain key per session cookie for the one-GET floor,
// and 10,000 @fastify/session sessions written through connect-redis's own set(), with
// cookies signed the way @fastify/session verifies them.
import { randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'
import { createClient } from 'redis'
import { RedisStore } from 'connect-redis'
import { sign } from '@fastify/cookie'
import type { SeededUser } from './seed.js'

const FLOOR_PREFIX = 'floor:'
const FASTIFY_SESSION_PREFIX = 'fsess:'
const SESSION_MAX_AGE_MS = 24 * 60 * 60 * 1000

/** `<prefix>floor:<cookie>` → the user as JSON, one SET per session of ours */
export async function seedFloorKeys (redis: Redis, keyPrefix: string, tokens: readonly string[], users: readonly SeededUser[]): Promise<void> {
  const pipeline = redis.pipeline()
  tokens.forEach((token, i) => {
    const user = users[i]!
    pipeline.set(keyPrefix + FLOOR_PREFIX + token, JSON.stringify({ id: user.id, email: user.email, role: 'user' }), 'EX', 7200)
  })
  await pipeline.exec()
}

/** the signed cookie values of `count` sessions stored by connect-redis */
export async function seedFastifySessions (redisUrl: string, keyPrefix: string, secret: string, users: readonly SeededUser[], count: number): Promise<string[]> {
  const client = createClient({ url: redisUrl })
  client.on('error', () => {}) // a failure surfaces through the awaited calls below
  await client.connect()
  try {
    const store = new RedisStore({ client, prefix: keyPrefix + FASTIFY_SESSION_PREFIX })
    const cookies: string[] = []
    for (let i = 0; i < count; i += 500) {
      await Promise.all(Array.from({ length: Math.min(500, count - i) }, (_, k) => {
        const user = users[(i + k) % users.length]!
        // the id has the form of @fastify/session's own generator: 32 url-safe chars
        const id = randomBytes(24).toString('base64url')
        cookies.push(sign(id, secret))
        const session = {
          cookie: { originalMaxAge: SESSION_MAX_AGE_MS, expires: new Date(Date.now() + SESSION_MAX_AGE_MS), secure: false, httpOnly: true, path: '/', sameSite: 'lax' },
          user: { id: user.id, email: user.email, role: 'user' }
        }
        return store.set(id, session as never)
      }))
    }
    return cookies
  } finally {
    await client.quit()
  }
}
