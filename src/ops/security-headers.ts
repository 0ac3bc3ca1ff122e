// PLACEHOLDER (to be implemented): security headers on every response.
import fp from 'fastify-plugin'
import type { Config } from '../config.js'

export const securityHeaders = fp<{ config: Config }>(async () => {}, { name: 'security-headers' })
