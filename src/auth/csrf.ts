// PLACEHOLDER (to be implemented): Origin check of cookie-authenticated state changes.
import fp from 'fastify-plugin'
import type { Config } from '../config.js'

export const csrfOriginCheck = fp<{ config: Config }>(async () => {}, { name: 'csrf-origin-check', dependencies: ['authenticate'] })
