// What every peer shares: listen on PORT (127.0.0.1), close on SIGTERM/SIGINT, and exit when
// stdin closes, which is when the bench that started the peer is gone: no orphan servers.
import type { FastifyInstance } from 'fastify'

export function need (name: string): string {
  const value = process.env[name]
  if (!value) {
    console.error(`peer: ${name} is not set`)
    process.exit(1)
  }
  return value
}

export async function serve (app: FastifyInstance, onClose: () => Promise<void> = async () => {}): Promise<void> {
  let closing = false
  const close = (): void => {
    if (closing) return
    closing = true
    app.close().then(onClose).finally(() => process.exit(0))
  }
  process.once('SIGTERM', close)
  process.once('SIGINT', close)
  process.stdin.on('end', close)
  process.stdin.on('error', close)
  process.stdin.resume()
  await app.listen({ port: Number(need('PORT')), host: '127.0.0.1' })
}
