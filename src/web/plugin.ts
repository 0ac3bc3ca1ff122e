// The two pages: the user's page at / and the operator's page at /admin, with their assets under
// /assets/. HTML and CSS live in src/web/public; the browser code is TypeScript in
// src/web/client, compiled by `npm run build:web` (chained into start, test, build and bench)
// into dist/web. The pages only call the public API, so this plugin imports no other feature.
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fastifyStatic from '@fastify/static'

/** the package root, from src/web (tsx) or dist/src/web (the build) alike */
function packageRoot (): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir)
    if (up === dir) throw new Error('web: package.json not found above ' + dir)
    dir = up
  }
  return dir
}

const ROOT = packageRoot()
const PUBLIC_DIR = join(ROOT, 'src', 'web', 'public')
const COMPILED_DIR = join(ROOT, 'dist', 'web')

// a Host we may echo into the policy: a name or IPv4/IPv6 literal and an optional port, nothing
// that could end the directive or add another
const SAFE_HOST = /^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?$/

/**
 * The pages' policy: own scripts and styles only (no inline code at all), fetches to this origin
 * and the price socket on this host. 'self' alone covers ws: in current browsers, but not in all:
 * the socket's origin is named when the Host header is one that can be named safely.
 */
function pagePolicy (host: string, secure: boolean): string {
  const socket = SAFE_HOST.test(host) ? ` ${secure ? 'wss' : 'ws'}://${host}` : ''
  return "default-src 'none'; script-src 'self'; style-src 'self'; " +
    `connect-src 'self'${socket}; img-src 'self'; font-src 'self'; form-action 'self'; ` +
    "frame-ancestors 'none'; base-uri 'none'"
}

function sendPage (file: string) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    reply.header('content-security-policy', pagePolicy(request.host, request.protocol === 'https'))
    reply.header('cache-control', 'no-cache')
    return reply.sendFile(file, PUBLIC_DIR)
  }
}

export async function webPlugin (app: FastifyInstance): Promise<void> {
  if (!existsSync(join(COMPILED_DIR, 'assets', 'app.js'))) {
    // not fatal: the API works without its pages, and a single test file run with tap directly
    // skips the build; the pages then load without their script and say nothing
    app.log.warn('web: dist/web is missing; run `npm run build:web` for the pages to work')
  }
  await app.register(fastifyStatic, {
    root: [join(PUBLIC_DIR, 'assets'), join(COMPILED_DIR, 'assets')],
    prefix: '/assets/',
    index: false,
    list: false,
    cacheControl: true,
    maxAge: 0
  })
  app.get('/', { schema: { hide: true } }, sendPage('index.html'))
  app.get('/admin', { schema: { hide: true } }, sendPage('admin.html'))
}
