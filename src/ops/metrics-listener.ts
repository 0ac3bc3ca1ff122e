// The separate metrics listener (METRICS_PORT), as Ory Kratos keeps its admin port apart:
// the k8s Service exposes only the API port, so /metrics and the runbook numbers are
// reachable from inside the cluster (the scraper, kubectl port-forward), never the internet.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { register } from './metrics.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** the bound port of the metrics listener (METRICS_PORT=0 picks a free one), null when off */
    metricsPort: number | null
  }
}

/** bare numbers for `curl -s`, as the runbook reads them */
export function formatNumber (value: number | null): string {
  return value === null ? 'no data\n' : `${Number(value.toFixed(3))}\n`
}

async function answer (app: FastifyInstance, path: string): Promise<{ status: number; type: string; body: string }> {
  const text = 'text/plain; charset=utf-8'
  if (path === '/metrics') return { status: 200, type: register.contentType, body: await app.ops.metricsText() }
  if (path === '/metrics/auth-error-rate') return { status: 200, type: text, body: formatNumber(app.ops.authErrorRatePercent()) }
  if (path === '/metrics/session-latency-p95') return { status: 200, type: text, body: formatNumber(await app.ops.sessionLatencyP95Ms()) }
  return { status: 404, type: 'application/json', body: JSON.stringify({ statusCode: 404, code: 'ROUTE_NOT_FOUND', error: 'Not Found', message: 'No route here' }) }
}

export async function startMetricsListener (app: FastifyInstance, port: number, host: string): Promise<() => Promise<void>> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!
    const reply = req.method === 'GET'
      ? answer(app, path)
      : Promise.resolve({ status: 405, type: 'application/json', body: JSON.stringify({ statusCode: 405, code: 'ROUTE_NOT_FOUND', error: 'Method Not Allowed', message: 'GET only' }) })
    reply.then(r => {
      res.writeHead(r.status, { 'content-type': r.type })
      res.end(r.body)
    }, (err: Error) => {
      app.log.warn({ err: err.message }, 'metrics listener: answer failed')
      res.writeHead(503, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ statusCode: 503, code: 'DEPENDENCY_UNAVAILABLE', error: 'Service Unavailable', message: 'Metrics could not be read' }))
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  })
  app.metricsPort = (server.address() as AddressInfo).port
  return () => new Promise(resolve => { server.closeAllConnections(); server.close(() => resolve()) })
}
