// CSRF defence by Origin: a browser attaches our cookie to a request any site can start, so a
// state change that rides on the cookie must prove it comes from one of our own origins.
// Bearer tokens are never attached by a browser on its own, so Bearer-only requests pass.
import fp from 'fastify-plugin'
import type { FastifyRequest } from 'fastify'
import type {} from '@fastify/cookie'
import type { Config } from '../config/config.js'
import { Errors } from './errors.js'
import './route-flags.js'

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

export type CsrfVerdict = 'not-checked' | 'allowed' | 'rejected'

/** the rule on its own, for the hook and for tests */
function csrfVerdict (config: Config, allowed: ReadonlySet<string> = new Set(config.allowedOrigins)) {
  const cookieName = config.session.cookieName
  return (request: FastifyRequest): CsrfVerdict => {
    if (!STATE_CHANGING.has(request.method)) return 'not-checked'
    // request.auth is set by the authenticate hook of auth, a layer above: read structurally
    const cookieBound = (request as { auth?: { mode?: string } | null }).auth?.mode === 'session' ||
      request.cookies?.[cookieName] !== undefined
    // unauthenticated browser entry points that set the session cookie say so in their route
    // config (login CSRF: a foreign page logging the victim into the attacker's account); the
    // matched route, not the raw URL, so a query string or an encoded variant cannot dodge it
    const entryPoint = !cookieBound && request.routeOptions.config.csrfEntryPoint === true
    if (!cookieBound && !entryPoint) return 'not-checked'

    // exact match only: `null` (sandboxed frames, opaque origins), a joined duplicate header,
    // another port or scheme are all foreign
    const origin = request.headers.origin
    if (origin !== undefined) return allowed.has(origin) ? 'allowed' : 'rejected'

    const site = request.headers['sec-fetch-site']
    if (site === 'same-origin') return 'allowed'
    // Login/register from a client that sends neither header is not a browser (the mobile
    // app, curl): login CSRF needs a victim's browser, and browsers always send Origin on a
    // cross-site POST. A cookie-carrying request gets no such pass.
    if (entryPoint && site === undefined) return 'allowed'
    return 'rejected'
  }
}

export const csrfOriginCheck = fp<{ config: Config }>(async (app, { config }) => {
  const verdict = csrfVerdict(config)
  // onRequest inside fastify-plugin, registered after authenticate: runs after request.auth
  // is set and before any body is read or handler runs
  app.addHook('onRequest', (request, _reply, done) => {
    if (verdict(request) === 'rejected') {
      request.log.info({ origin: request.headers.origin, secFetchSite: request.headers['sec-fetch-site'] }, 'cross-site request refused')
      // the message names the header and the setting: the first thing a curl user or a server on
      // another port needs to know (the value is the client's own header, cut to a sane length)
      const origin = request.headers.origin
      done(new Errors.CSRF_ORIGIN_REJECTED(origin === undefined ? 'none was sent' : origin.slice(0, 200)))
      return
    }
    done()
  })
}, { name: 'csrf-origin-check', dependencies: ['authenticate'] })
