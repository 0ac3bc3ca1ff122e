// SECURITY_LOCKDOWN: data, admin and WebSocket routes, logins and refreshes answer 503 while
// health stays up and nothing is deleted. Registered only when the flag is on, so it costs
// nothing otherwise. Matched on the route pattern, not the raw URL, so no encoding slips by.
import fp from 'fastify-plugin'
import createError from '@fastify/error'
import type { Config } from '../config/config.js'

const SECURITY_LOCKDOWN = createError('SECURITY_LOCKDOWN', 'The service is in security lockdown; try again later', 503)

const LOCKED_PREFIXES = ['/api/portfolios', '/api/holdings', '/api/admin', '/ws']
const LOCKED_ROUTES = new Set(['/api/auth/login', '/api/auth/register', '/api/auth/refresh'])

function isLockedRoute (routeUrl: string | undefined): boolean {
  if (!routeUrl) return false
  return LOCKED_ROUTES.has(routeUrl) || LOCKED_PREFIXES.some(p => routeUrl === p || routeUrl.startsWith(p + '/'))
}

export const lockdownPlugin = fp<{ config: Config }>(async (app, { config }) => {
  if (!config.rollout.securityLockdown) return
  app.log.warn('SECURITY_LOCKDOWN is on: logins, refreshes, data and admin routes answer 503')
  app.addHook('onRequest', async request => {
    if (isLockedRoute(request.routeOptions.url)) throw new SECURITY_LOCKDOWN()
  })
}, { name: 'lockdown' })
