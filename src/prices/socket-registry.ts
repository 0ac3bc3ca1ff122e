// This instance's sockets, indexed the ways the feed looks them up: by symbol for fan-out, by
// session public id, legacy token id and user id for revocations.
import type { FeedClient, SocketCredential } from './feed-client.js'

export class SocketRegistry {
  readonly all = new Set<FeedClient>()
  private readonly bySymbol = new Map<string, Set<FeedClient>>()
  private readonly bySession = new Map<string, Set<FeedClient>>()
  private readonly byJti = new Map<string, Set<FeedClient>>()
  private readonly byUser = new Map<string, Set<FeedClient>>()

  add (client: FeedClient): void {
    this.all.add(client)
  }

  /** sets or replaces the socket's credential (a legacy client re-authenticates) */
  bind (client: FeedClient, credential: SocketCredential): void {
    this.unbind(client)
    client.credential = credential
    addTo(this.byUser, credential.userId, client)
    if (credential.kind === 'session') addTo(this.bySession, credential.publicId, client)
    else addTo(this.byJti, credential.jti, client)
  }

  subscribe (client: FeedClient, symbols: Iterable<string>): void {
    for (const s of symbols) {
      client.symbols.add(s)
      addTo(this.bySymbol, s, client)
    }
  }

  unsubscribe (client: FeedClient, symbols: Iterable<string>): void {
    for (const s of symbols) {
      client.symbols.delete(s)
      removeFrom(this.bySymbol, s, client)
    }
  }

  remove (client: FeedClient): void {
    this.unsubscribe(client, [...client.symbols])
    this.unbind(client)
    this.all.delete(client)
  }

  subscribersOf (symbol: string): ReadonlySet<FeedClient> | undefined {
    return this.bySymbol.get(symbol)
  }

  ofSession (publicId: string): FeedClient[] { return [...(this.bySession.get(publicId) ?? [])] }
  ofJti (jti: string): FeedClient[] { return [...(this.byJti.get(jti) ?? [])] }
  ofUser (userId: string): FeedClient[] { return [...(this.byUser.get(userId) ?? [])] }

  private unbind (client: FeedClient): void {
    const c = client.credential
    if (!c) return
    removeFrom(this.byUser, c.userId, client)
    if (c.kind === 'session') removeFrom(this.bySession, c.publicId, client)
    else removeFrom(this.byJti, c.jti, client)
  }
}

function addTo (map: Map<string, Set<FeedClient>>, key: string, client: FeedClient): void {
  let set = map.get(key)
  if (!set) map.set(key, set = new Set())
  set.add(client)
}

function removeFrom (map: Map<string, Set<FeedClient>>, key: string, client: FeedClient): void {
  const set = map.get(key)
  if (!set) return
  set.delete(client)
  if (set.size === 0) map.delete(key)
}
