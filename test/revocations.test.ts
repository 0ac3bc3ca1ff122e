// The revocation channel's message shape is a contract between whoever revokes and whoever
// listens: well-formed messages parse to exactly their fields, anything else is null, and a
// near cache that hears an unreadable message stops serving from memory (fails closed).
import t from 'tap'
import type { Redis } from 'ioredis'
import { parseRevokedMessage, revocationChannel } from '../src/auth/revocations.js'
import { build, waitFor } from './helper.js'
import { me, register } from './auth-helper.js'

t.test('the three message forms parse to exactly their fields', async t => {
  t.same(parseRevokedMessage('{"userId":"u1","publicId":"p1","reason":"logout","extra":1}'), { userId: 'u1', publicId: 'p1', reason: 'logout' })
  t.same(parseRevokedMessage('{"userId":"u1","jti":"j1","reason":"legacy_logout"}'), { userId: 'u1', jti: 'j1', reason: 'legacy_logout' })
  t.same(parseRevokedMessage('{"userId":"u1","reason":"password_change"}'), { userId: 'u1', reason: 'password_change' })
  t.equal(revocationChannel('app:'), 'app:session-revoked')
})

t.test('anything else is null', async t => {
  const bad = {
    'not JSON': '{userId',
    'JSON null': 'null',
    'a string': '"u1"',
    'a number': '42',
    'no userId': '{"reason":"x"}',
    'no reason': '{"userId":"u1"}',
    'userId not a string': '{"userId":1,"reason":"x"}',
    'publicId not a string': '{"userId":"u1","publicId":7,"reason":"x"}',
    'jti not a string': '{"userId":"u1","jti":{},"reason":"x"}'
  }
  t.same(Object.entries(bad).filter(([, payload]) => parseRevokedMessage(payload) !== null).map(([name]) => name), [], 'every malformed payload refused')
})

t.test('an unreadable message empties the near cache: a vanished session is refused at once', async t => {
  const app = await build(t, { SESSION_CACHE_TTL: '30s' })
  await waitFor(() => app.sessionCache?.active, { what: 'the near cache subscribed' })
  const user = await register(app)
  t.equal((await me(app, user.cookie)).statusCode, 200, 'cached')
  const redis = app.redis as Redis
  await redis.del(...await redis.keys(`${app.config.redis.keyPrefix}*:s:*`)) // gone behind the cache's back
  t.equal((await me(app, user.cookie)).statusCode, 200, 'still served from memory')
  await redis.publish(revocationChannel(app.config.redis.keyPrefix), 'garbage')
  const res = await waitFor(async () => { const r = await me(app, user.cookie); return r.statusCode !== 200 && r }, { what: 'the cache bypassed' })
  t.equal(res.statusCode, 401, 'Redis is asked and has no such session')
})
