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

// Verified tokens are cached by the whole token: a repeat is served from memory, but never
// outside the token's own validity, and never for another token that shares its signature.
t.test('a repeated token: refused once it expires, and its signature vouches for no other payload', async t => {
  const app = await build(t)
  const user = await register(app)
  const me = (token: string) => app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(token) })

  const exp = Math.floor(Date.now() / 1000) + 1
  const shortLived = handMadeJwt(validClaims(user.userId, { exp }))
  t.equal((await me(shortLived)).statusCode, 200, 'accepted while valid')
  t.equal((await me(shortLived)).statusCode, 200, 'and again (the cached verification)')
  await new Promise(resolve => setTimeout(resolve, exp * 1000 + 20 - Date.now()))
  const late = await me(shortLived)
  t.same([late.statusCode, late.json().code], [401, 'AUTH_REQUIRED'], 'refused after exp, though verified before')

  const good = handMadeJwt(validClaims(user.userId))
  t.equal((await me(good)).statusCode, 200)
  const [header, , signature] = good.split('.')
  const admin = Buffer.from(JSON.stringify(validClaims(user.userId, { role: 'admin' }))).toString('base64url')
  const forged = await me(`${header}.${admin}.${signature}`)
  t.same([forged.statusCode, forged.json().code], [401, 'AUTH_REQUIRED'], 'another payload under the cached signature')
  t.equal((await me(good)).statusCode, 200, 'the genuine token still works')
})
