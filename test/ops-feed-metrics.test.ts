// The price feed's metrics move as its sockets do, and every kind of revocation message carries
// its publish time, so each one records exactly one propagation sample.
import t from 'tap'
import type { Test } from 'tap'
import type { Redis } from 'ioredis'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { build, waitFor } from './helper.js'
import { browser, login, register } from './auth-helper.js'
import { bearer, legacyLogin } from './legacy-helper.js'
import { browserSocket, closeAll, connect, FEED_ENV, listening } from './ws-helper.js'
import { moved, sample, scrape } from './metrics-helper.js'
import { revocationChannel } from '../src/auth/revocations.js'

t.test('sockets: opens, the open gauge, closes by code, upgrade attempts and refusals move exactly', async t => {
  const app = await build(t, FEED_ENV)
  const url = await listening(app)
  const user = await register(app)
  const before = await scrape(app)

  const socket = await browserSocket(url, user.cookie)
  t.teardown(() => closeAll([socket]))
  const open = await scrape(app)
  t.equal(moved(before, open, 'hallpass_ws_opens_total'), 1, 'one socket opened')
  t.equal(moved(before, open, 'hallpass_ws_open_sockets'), 1, 'and is counted as open')
  t.equal(moved(before, open, 'hallpass_ws_upgrade_attempts_total'), 1, 'one upgrade attempt')

  const foreign = connect(url, { cookie: user.cookie, origin: 'https://evil.example' })
  const refused = await foreign.opened
  t.same(refused.open ? null : refused.status, 403, 'a foreign Origin is refused')
  // a plain GET is no socket attempt: neither an attempt nor a refused upgrade
  const plain = await app.inject({ method: 'GET', url: '/ws/prices', headers: browser(user.cookie) })
  t.equal(plain.statusCode, 426)
  const afterRefusal = await scrape(app)
  t.equal(moved(open, afterRefusal, 'hallpass_ws_upgrade_attempts_total'), 1, 'the refused upgrade is an attempt')
  t.equal(moved(open, afterRefusal, 'hallpass_ws_upgrade_refusals_total', { code: 'WS_ORIGIN_REJECTED' }), 1, 'refused by its code')
  t.equal(moved(open, afterRefusal, 'hallpass_ws_upgrade_refusals_total', { code: 'WS_UPGRADE_REQUIRED' }), 0, 'the plain GET is not a refused upgrade')
  t.equal(moved(open, afterRefusal, 'hallpass_ws_opens_total'), 0, 'nothing opened')

  const out = await app.inject({ method: 'POST', url: '/api/auth/logout', headers: browser(user.cookie) })
  t.equal(out.statusCode, 204)
  t.equal((await socket.closed).code, 4401, 'the revoked session\'s socket is closed')
  const closed = await waitFor(async () => {
    const text = await scrape(app)
    return sample(text, 'hallpass_ws_open_sockets') === sample(before, 'hallpass_ws_open_sockets') && text
  }, { what: 'the socket gone from the gauge' })
  t.equal(moved(before, closed, 'hallpass_ws_closes_total', { code: '4401' }), 1, 'one close, by its code')
  t.equal(moved(before, closed, 'hallpass_ws_closes_total'), 1, 'and no other')
})

interface Heard { userId: string; publicId?: string; jti?: string; reason: string; at?: unknown }

/** everything published on the app's revocation channel, read by a subscriber of our own */
async function listen (t: Test, app: FastifyInstance): Promise<Heard[]> {
  const heard: Heard[] = []
  const subscriber = (app.redis as Redis).duplicate({ enableOfflineQueue: true })
  t.teardown(() => subscriber.disconnect())
  subscriber.on('message', (_channel: string, payload: string) => heard.push(JSON.parse(payload) as Heard))
  await subscriber.subscribe(revocationChannel(app.config.redis.keyPrefix))
  await waitFor(() => app.priceFeed.subscribed, { what: 'the feed subscribed' })
  return heard
}

/** runs one revocation and checks every message it published: a publish time, and one sample each */
async function eachMessageSampled (t: Test, app: FastifyInstance, heard: Heard[], shape: (m: Heard) => boolean, revoke: () => Promise<LightMyRequestResponse>): Promise<void> {
  const before = await scrape(app)
  heard.length = 0
  const started = Date.now()
  const res = await revoke()
  t.ok(res.statusCode < 300, `revoked: ${res.statusCode}`)
  await waitFor(() => heard.some(shape), { what: 'the message of this shape' })
  const after = await waitFor(async () => {
    const text = await scrape(app)
    return moved(before, text, 'hallpass_revocations_received_total') >= heard.length && text
  }, { what: 'the feed heard every message' })
  const finished = Date.now()
  // Redis' clock and ours are the same machine's here: allow only rounding
  t.same(heard.filter(m => typeof m.at !== 'number' || m.at < started - 5 || m.at > finished + 5), [], 'every message carries its publish time')
  t.equal(moved(before, after, 'hallpass_revocation_propagation_seconds_count'), heard.length, `one sample for each of the ${heard.length} messages`)
  t.equal(moved(before, after, 'hallpass_revocation_propagation_seconds_bucket', { le: '1' }), heard.length, 'all within 1 s')
}

t.test('one session and every credential of a user (published by the session scripts) each record a sample', async t => {
  const app = await build(t, FEED_ENV)
  const heard = await listen(t, app)

  const user = await register(app)
  await eachMessageSampled(t, app, heard, m => m.publicId !== undefined && m.reason === 'logout', () =>
    app.inject({ method: 'POST', url: '/api/auth/logout', headers: browser(user.cookie) }))
  t.ok(heard.every(m => m.publicId !== undefined), 'a logout publishes the one-session shape only')

  const again = await login(app, user.email)
  await login(app, user.email)
  await eachMessageSampled(t, app, heard, m => m.publicId === undefined && m.jti === undefined, () =>
    app.inject({ method: 'POST', url: '/api/auth/logout-all', headers: browser(again.cookie) }))
  t.equal(heard.filter(m => m.publicId === undefined && m.jti === undefined).length, 1, 'one user-wide message')
  t.equal(heard.filter(m => m.publicId !== undefined).length, 2, 'and one for each session swept')
})

t.test('one legacy access token (published from TypeScript) records a sample', async t => {
  const app = await build(t, { ...FEED_ENV, NEW_AUTH_PERCENTAGE: '0' })
  const heard = await listen(t, app)
  const user = await register(app)
  const legacy = await legacyLogin(app, user.email)
  await eachMessageSampled(t, app, heard, m => m.jti !== undefined, () =>
    app.inject({ method: 'POST', url: '/api/auth/logout', headers: bearer(legacy.accessToken) }))
  t.equal(heard.length, 1, 'one message: the token\'s')
})
