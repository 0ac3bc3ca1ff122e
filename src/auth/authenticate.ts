// PLACEHOLDER: sets request.auth
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import './auth-context.js'

export const authenticatePlugin = fp<{ config: Config }>(async app => {
  app.decorateRequest('auth', null)
}, { name: 'authenticate' })
