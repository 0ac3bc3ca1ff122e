// The audit writer's metrics, in prom-client's default registry (what /metrics serves). Created
// once at module scope: tests build several apps in one process, so the queue gauge sums every
// live writer.
import { Counter, Gauge } from 'prom-client'

const liveWriters = new Set<{ pending: () => number }>()

/** counts this writer in the queue gauge until the returned function runs (at close) */
export function trackAuditQueue (writer: { pending: () => number }): () => void {
  liveWriters.add(writer)
  return () => { liveWriters.delete(writer) }
}

// registered in the default registry as it is created; read at each scrape by collect()
// eslint-disable-next-line no-new
new Gauge({
  name: 'hallpass_audit_queue_length',
  help: 'Audit rows waiting to be written on this instance (queued, being written, open tallies)',
  collect () {
    let pending = 0
    for (const w of liveWriters) pending += w.pending()
    this.set(pending)
  }
})

type AuditDropReason = 'queue_full' | 'refused' | 'shutdown' | 'after_close'

const auditDropped = new Counter({
  name: 'hallpass_audit_dropped_total',
  help: 'Audit rows never written, by reason: queue_full (Postgres failing longer than the queue holds), refused (Postgres refused the row\'s data), shutdown (not written before the close timeout), after_close',
  labelNames: ['reason']
})

export function countDropped (reason: AuditDropReason, rows = 1): void {
  if (rows > 0) auditDropped.inc({ reason }, rows)
}
