// Every way a legacy access token must be refused, and the one way it is accepted.
import t from 'tap'
import { build } from './helper.js'
import { register } from './auth-helper.js'
import { bearer, handMadeJwt, validClaims } from './legacy-helper.js'

t.test('the authenticate hook accepts only a valid, pinned-HS256 token', async t => {
  const app = await build(t)
  const user = await register(app)
  const me = (token: string) => app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(token) })

  const good = await me(handMadeJwt(validClaims(user.userId)))
  t.equal(good.statusCode, 200, 'a correct token works')
  t.same(good.json().auth, { mode: 'legacy' })
  t.equal(good.json().user.id, user.userId)

  const now = Math.floor(Date.now() / 1000)
  const refused: Record<string, string> = {
    'alg none': handMadeJwt(validClaims(user.userId), { alg: 'none', sign: false }),
    'alg none with a signature': handMadeJwt(validClaims(user.userId), { alg: 'none' }),
    'another algorithm (HS512)': handMadeJwt(validClaims(user.userId), { alg: 'HS512' }),
    'RS256 header with an HMAC signature': handMadeJwt(validClaims(user.userId), { alg: 'RS256' }),
    'a bad signature': handMadeJwt(validClaims(user.userId)).slice(0, -4) + 'AAAA',
    'another secret': handMadeJwt(validClaims(user.userId), { secret: 'some-other-secret-of-at-least-32-bytes!!' }),
    'wrong iss': handMadeJwt(validClaims(user.userId, { iss: 'evil' })),
    'wrong aud': handMadeJwt(validClaims(user.userId, { aud: 'other-api' })),
    expired: handMadeJwt(validClaims(user.userId, { iat: now - 1000, exp: now - 10 })),
    'not yet valid': handMadeJwt(validClaims(user.userId, { nbf: now + 600 })),
    'no jti': handMadeJwt(validClaims(user.userId, { jti: undefined })),
    'no exp': handMadeJwt(validClaims(user.userId, { exp: undefined })),
    'an unknown role': handMadeJwt(validClaims(user.userId, { role: 'root' })),
    garbage: 'not.a.jwt',
    'huge token': 'a'.repeat(10_000)
  }
  for (const [name, token] of Object.entries(refused)) {
    const res = await me(token)
    t.equal(res.statusCode, 401, name)
    t.equal(res.json().code, 'AUTH_REQUIRED', name)
  }
  t.equal((await app.inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: 'Basic dXNlcjpwYXNz' } })).statusCode, 401, 'other schemes')
})
