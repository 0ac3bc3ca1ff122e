// Fastify makes a child logger for every request; with redaction configured pino builds and
// redacts its bindings each time, which cost ~5% of a busy server's CPU when most requests
// log nothing (LOG_LEVEL=warn). This child is made only when the request logs at all.
import type { FastifyBaseLogger } from 'fastify'
import type { Bindings, ChildLoggerOptions } from 'fastify/types/logger.js'

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'
const LEVELS: Level[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace']

class LazyChildLogger {
  private real: FastifyBaseLogger | null = null
  constructor (private readonly parent: FastifyBaseLogger, private readonly bindings: Bindings, private readonly opts: ChildLoggerOptions) {}

  materialize (): FastifyBaseLogger {
    this.real ??= this.parent.child(this.bindings, this.opts)
    return this.real
  }

  get level (): string { return this.real?.level ?? this.parent.level }
  set level (level: string) { this.materialize().level = level }
  child (bindings: Bindings, opts?: ChildLoggerOptions): FastifyBaseLogger { return this.materialize().child(bindings, opts) }
  silent (): void {}
}

for (const level of LEVELS) {
  Object.defineProperty(LazyChildLogger.prototype, level, {
    value: function (this: LazyChildLogger, ...args: unknown[]) {
      const parent = (this as unknown as { parent: FastifyBaseLogger & { isLevelEnabled?: (l: string) => boolean } }).parent
      if (parent.isLevelEnabled && !parent.isLevelEnabled(level) && !(this as unknown as { real: unknown }).real) return
      const logger = this.materialize() as unknown as Record<Level, (...a: unknown[]) => void>
      logger[level](...args)
    }
  })
}

export function lazyChildLogger (logger: FastifyBaseLogger, bindings: Bindings, opts: ChildLoggerOptions): FastifyBaseLogger {
  // a route with its own log level needs the real child, whose level differs from the parent's
  if (opts.level) return logger.child(bindings, opts)
  return new LazyChildLogger(logger, bindings, opts) as unknown as FastifyBaseLogger
}
