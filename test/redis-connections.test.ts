// The extra connections made from the app's client: a subscriber and the session check's
// auto-pipelined reader. Built without connecting (lazyConnect): what is checked is the options
// each one would connect with.
import t from 'tap'
import type { Cluster, Redis } from 'ioredis'
import { autoPipelinedReader, createRedis, subscriberFor } from '../src/infra/redis.js'

const clusterConfig = { url: 'redis://hallpass:s3cret-of-the-cluster@127.0.0.1:7000', clusterNodes: [{ host: '127.0.0.1', port: 7000 }], keyPrefix: 't:' }

t.test('a cluster subscriber keeps the nodes\' credentials and timeouts, and may queue until connected', async t => {
  const cluster = createRedis(clusterConfig, { lazyConnect: true }) as Cluster
  const subscriber = subscriberFor(cluster) as Cluster
  t.teardown(() => { cluster.disconnect(); subscriber.disconnect() })
  const node = subscriber.options.redisOptions ?? {}
  t.equal(node.username, 'hallpass', 'the URL\'s user')
  t.equal(node.password, 's3cret-of-the-cluster', 'the URL\'s password')
  t.equal(node.connectTimeout, 2000, 'the fail-fast connect timeout')
  t.equal(subscriber.options.enableOfflineQueue, true, 'SUBSCRIBE waits for the connection')
  t.equal(cluster.options.enableOfflineQueue, false, 'while the app\'s own commands fail fast')
  t.equal(node.maxRetriesPerRequest, null)
})

t.test('a single-node subscriber queues until connected; the reader auto-pipelines and still fails fast', async t => {
  const client = createRedis({ url: 'redis://127.0.0.1:6379', clusterNodes: [], keyPrefix: 't:' }, { lazyConnect: true }) as Redis
  const subscriber = subscriberFor(client) as Redis
  const reader = autoPipelinedReader(client) as Redis
  t.teardown(() => { client.disconnect(); subscriber.disconnect(); reader.disconnect() })
  t.equal(subscriber.options.enableOfflineQueue, true)
  t.equal(subscriber.options.enableAutoPipelining, false, 'a subscriber\'s PING goes out on its own')
  t.equal(reader.options.enableAutoPipelining, true)
  t.equal(reader.options.enableOfflineQueue, false, 'no queue while Redis is away: the breaker answers')
  t.equal(reader.options.commandTimeout, 2000)
  t.equal(client.options.enableAutoPipelining, false, 'the main connection (scripts) is not auto-pipelined')
})

t.test('a cluster reader auto-pipelines with the nodes\' options', async t => {
  const cluster = createRedis(clusterConfig, { lazyConnect: true }) as Cluster
  const reader = autoPipelinedReader(cluster) as Cluster
  t.teardown(() => { cluster.disconnect(); reader.disconnect() })
  t.equal(reader.options.enableAutoPipelining, true)
  t.equal(reader.options.redisOptions?.password, 's3cret-of-the-cluster')
  t.equal(cluster.options.enableAutoPipelining, false)
})
