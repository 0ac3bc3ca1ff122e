// pino options: secrets never reach a log line. Cookies, authorization headers, Set-Cookie,
// and any body field that carries a password or a token are redacted wherever they appear.
import type { DestinationStream } from 'pino'
import type { FastifyServerOptions } from 'fastify'
import type { Config } from '../config/config.js'

const REDACT_PATHS = [
  'req.headers.cookie',
  'req.headers.authorization',
  'req.headers["x-refresh-token"]',
  'res.headers["set-cookie"]',
  'headers.cookie',
  'headers.authorization',
  '*.password', '*.currentPassword', '*.newPassword',
  '*.refreshToken', '*.accessToken', '*.token', '*.sessionId',
  'body.password', 'body.currentPassword', 'body.newPassword', 'body.refreshToken'
]

export function loggerOptions (config: Config, stream?: DestinationStream): FastifyServerOptions['logger'] {
  return {
    level: config.logLevel,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    ...(stream ? { stream } : {}),
    serializers: {
      // the URL's query string is not logged: it is the one place a careless client may put a token
      req: (req: { method: string; url: string; id: string; ip?: string }) => ({
        id: req.id, method: req.method, url: req.url.split('?')[0], ip: req.ip
      })
    }
  } as FastifyServerOptions['logger']
}

/**
 * Readable log lines for a person at a terminal in development (pino-pretty, a dev dependency,
 * loaded only then); JSON everywhere else, for machines. Undefined means "pino's own JSON".
 */
export async function developmentLogStream (config: Config, isTTY = process.stdout.isTTY === true, destination: NodeJS.WritableStream = process.stdout): Promise<DestinationStream | undefined> {
  if (config.nodeEnv !== 'development' || !isTTY) return undefined
  try {
    const { default: pretty } = await import('pino-pretty')
    // sync: the lines of a crash at start are written before process.exit
    return pretty({ destination, sync: true, colorize: isTTY, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })
  } catch {
    return undefined // installed without dev dependencies: JSON it is
  }
}
