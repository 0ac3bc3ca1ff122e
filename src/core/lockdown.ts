// SECURITY_LOCKDOWN: data, admin and WebSocket routes, logins and refreshes answer 503 while
// health stays up and nothing is deleted. A route is locked by its `config.lockdown` flag, set
// either on the route itself or for a whole plugin by lockRoutesInScope, so a route added to a
// locked plugin is locked without anyone editing a list. The check runs only when the flag is
// on, so it costs nothing otherwise, and it reads the matched route, never the raw URL.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../config/config.js'
import { Errors } from './errors.js'
import './route-flags.js'

/** route options of one locked route: `{ config: { ...LOCKED, … } }` */
export const LOCKED = { lockdown: true } as const

/** locks every route registered in this encapsulated scope from now on (call before the routes) */
export function lockRoutesInScope (app: FastifyInstance): void {
  app.addHook('onRoute', route => {
    route.config = { ...route.config, lockdown: true }
  })
}

// registered before authenticate, so a locked route refuses before any Redis work is done
export const lockdownPlugin = fp<{ config: Config }>(async (app, { config }) => {
  if (!config.rollout.securityLockdown) return
  app.log.warn('SECURITY_LOCKDOWN is on: logins, refreshes, data and admin routes answer 503')
  // callback style: no promise per request while the flag is on
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.routeOptions.config.lockdown === true) done(new Errors.SECURITY_LOCKDOWN())
    else done()
  })
}, { name: 'lockdown' })
