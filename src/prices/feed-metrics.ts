// The feed's metrics, in prom-client's default registry (what /metrics serves). Created once at
// module scope: tests build several apps in one process, and prom-client refuses a second
// registration of the same name; the open-socket gauge therefore sums every live feed.
import { Counter, Gauge, Histogram } from 'prom-client'
import type { RevokedMessage } from '../auth/revocations.js'
import { Close } from './feed-client.js'

const liveRegistries = new Set<{ readonly all: ReadonlySet<unknown> }>()

/** counts this registry's sockets in the open-socket gauge until the returned function runs */
export function trackOpenSockets (registry: { readonly all: ReadonlySet<unknown> }): () => void {
  liveRegistries.add(registry)
  return () => { liveRegistries.delete(registry) }
}

// registered in the default registry as it is created; read at each scrape by collect()
// eslint-disable-next-line no-new
new Gauge({
  name: 'hallpass_ws_open_sockets',
  help: 'Price sockets open on this instance now (admitted or still being admitted)',
  collect () {
    let open = 0
    for (const r of liveRegistries) open += r.all.size
    this.set(open)
  }
})

export const wsOpens = new Counter({
  name: 'hallpass_ws_opens_total',
  help: 'Price sockets opened (upgrades that passed every check)'
})

// a client may close with any code from 1000 to 4999: only the feed's own codes and the
// protocol's usual ones become labels, the rest is "other"
const KNOWN_CLOSE_CODES = new Set<number>([1000, 1005, 1006, 1011, ...Object.values(Close)])

const wsCloses = new Counter({
  name: 'hallpass_ws_closes_total',
  help: 'Price sockets closed, by close code (4401 revoked, 4408 no auth, 4429 per-user limit, 1008 policy, 1013 try later, 1001 shutdown, 1006 dropped …; other codes as "other")',
  labelNames: ['code']
})

export function countClose (code: number): void {
  wsCloses.inc({ code: KNOWN_CLOSE_CODES.has(code) ? String(code) : 'other' })
}

const revocationsReceived = new Counter({
  name: 'hallpass_revocations_received_total',
  help: 'Revocation messages this instance received, by reason (each instance counts every message: use max across instances)',
  labelNames: ['reason']
})

const revocationPropagation = new Histogram({
  name: 'hallpass_revocation_propagation_seconds',
  help: 'Revocation published → this instance closed the sockets it concerns (from the message\'s publish time)',
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
})

/** called once the sockets a message concerns were told to close */
export function observeRevocation (message: RevokedMessage, closedAt: number): void {
  revocationsReceived.inc({ reason: message.reason.slice(0, 40) })
  // the publisher's clock (an instance's or Redis') may run a little ahead of ours
  if (message.at !== undefined) revocationPropagation.observe(Math.max(0, closedAt - message.at) / 1000)
}
