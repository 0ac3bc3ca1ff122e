// Logs in development at a terminal are readable lines (pino-pretty), still redacted; anywhere
// else (production, a pipe, a test) they stay pino's JSON for machines.
import t from 'tap'
import { PassThrough } from 'node:stream'
import Fastify from 'fastify'
import { developmentLogStream, loggerOptions } from '../src/core/logger.js'
import { testConfig } from './helper.js'

t.test('development at a terminal: readable lines, secrets still redacted', async t => {
  const config = testConfig({ NODE_ENV: 'development', LOG_LEVEL: 'info' })
  const sink = new PassThrough()
  let text = ''
  sink.on('data', d => { text += d })
  const stream = await developmentLogStream(config, true, sink)
  t.ok(stream, 'a pretty stream at a terminal')
  const app = Fastify({ logger: loggerOptions(config, stream) })
  t.teardown(() => app.close())
  app.get('/x', async request => { request.log.info({ headers: request.headers }, 'looked at the headers'); return {} })
  await app.inject({ url: '/x', headers: { cookie: 'sid=secret-cookie-value', authorization: 'Bearer secret-token-value' } })
  app.log.info('hello from the server')
  const plain = text.replace(new RegExp(String.fromCharCode(27) + '\\[[0-9;]*m', 'g'), '') // colours at a terminal
  t.match(plain, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: hello from the server$/m, 'time, level and message, not a JSON record')
  t.notMatch(text, /^\{"level"/m, 'no JSON line')
  t.match(text, /looked at the headers/)
  t.notMatch(text, /secret-cookie-value|secret-token-value/, 'cookies and authorization are redacted here too')
  t.match(text, /\[redacted\]/)
})

t.test('JSON everywhere else: production, a pipe, a test run', async t => {
  t.equal(await developmentLogStream(testConfig({ NODE_ENV: 'development' }), false), undefined, 'stdout is a pipe or a file')
  t.equal(await developmentLogStream(testConfig({ NODE_ENV: 'production', JWT_ACCESS_SECRET: 'x'.repeat(32) }), true), undefined, 'production, even at a terminal')
  t.equal(await developmentLogStream(testConfig({ NODE_ENV: 'test' }), true), undefined, 'the test suite')
})
