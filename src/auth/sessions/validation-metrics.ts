// The session check's own metrics, in prom-client's default registry (what /metrics serves).
// Created once at module scope: tests build several apps in one process, and prom-client
// refuses a second registration of the same name.
import { Counter, Histogram } from 'prom-client'

/** seconds spent in the store's validate, cache hits included; exact edges at 0.5, 1, 5 and 10 ms */
export const sessionValidationSeconds = new Histogram({
  name: 'hallpass_session_validation_seconds',
  help: 'Time to validate a session cookie (near cache or Redis), in seconds',
  buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25]
})

export const sessionCacheHits = new Counter({
  name: 'hallpass_session_cache_hits_total',
  help: 'Session validations answered from the in-process near cache'
})

export const sessionCacheMisses = new Counter({
  name: 'hallpass_session_cache_misses_total',
  help: 'Session validations that went to Redis while the near cache was on'
})
