// A small keep-alive HTTP client for probes and polls (readiness, /api/health during the login
// storm, revoke-then-poll). Each Agent is its own set of connections, which is how the
// revocation scenario polls "from another connection".
import http from 'node:http'

export interface SendOptions {
  method?: string
  headers?: Record<string, string>
  body?: string
  timeoutMs?: number
}

export interface Reply {
  status: number
  body: string
  /** from the call to the end of the body, in ms */
  ms: number
}

export function keepAliveAgent (maxSockets: number): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets })
}

export function send (agent: http.Agent, url: string, opts: SendOptions = {}): Promise<Reply> {
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...opts.headers }
    if (opts.body !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.body))
    const req = http.request(url, { agent, method: opts.method ?? 'GET', headers }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), ms: performance.now() - started }))
      res.on('error', reject)
    })
    req.setTimeout(opts.timeoutMs ?? 10_000, () => req.destroy(new Error(`timeout after ${opts.timeoutMs ?? 10_000} ms`)))
    req.on('error', reject)
    req.end(opts.body)
  })
}
