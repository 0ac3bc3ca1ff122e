// The manifests under k8s/, checked offline: each against the Kubernetes schemas with unknown
// fields refused; the environment each container gets is one the config schema knows, complete
// and valid in production; ports, probes, image and grace period fit the server and the image.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { parseAllDocuments } from 'yaml'
import { EnvSchema, parseConfig, parseMigrateConfig, type Env } from '../src/config/config.js'
import { readDockerfile } from './dockerfile.js'
import { manifestProblems } from './k8s-schema.js'
import { build } from './helper.js'

const ROOT = process.cwd()
const K8S = join(ROOT, 'k8s')
// read by Node itself, not by the config: allowed in a container's environment
const NODE_RUNTIME_VARS = ['UV_THREADPOOL_SIZE', 'NODE_OPTIONS']

// manifests are free-form YAML, checked field by field
type Doc = Record<string, any>

function yamlFiles (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(e =>
    e.isDirectory() ? yamlFiles(join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [join(dir, e.name)] : [])
}

// every YAML document under k8s/ that names an apiVersion and kind; the Prometheus rule files
// beside them are not Kubernetes objects (promtool checks them) and are reached through the
// Kustomization that wraps them
const manifests = yamlFiles(K8S).flatMap(file => parseAllDocuments(readFileSync(file, 'utf8'))
  .map(d => d.toJS() as Doc)
  .filter(doc => doc && typeof doc === 'object' && 'apiVersion' in doc)
  .map(doc => ({ file: file.slice(ROOT.length + 1), doc })))

const find = (kind: string, name?: string): Doc => {
  const hit = manifests.find(m => m.doc.kind === kind && (name === undefined || m.doc.metadata?.name === name))
  if (!hit) throw new Error(`no ${kind}${name ? ' ' + name : ''} under k8s/`)
  return hit.doc
}
const KUSTOMIZE = 'kustomize.config.k8s.io/'

t.test('every manifest is valid against the Kubernetes schemas, with no unknown field', async t => {
  const objects = manifests.filter(m => !m.doc.apiVersion.startsWith(KUSTOMIZE))
  t.ok(objects.length >= 7, `${objects.length} manifests found`)
  for (const { file, doc } of objects) {
    t.same(await manifestProblems(doc), [], `${file}: ${doc.kind} ${doc.metadata?.name}`)
  }
})

t.test('the schema check can fail: a wrong type, a misspelt field, a missing required one', async t => {
  const deployment = structuredClone(find('Deployment'))
  const container = deployment.spec.template.spec.containers[0]
  deployment.spec.replicas = 'three'
  container.readinesProbe = container.readinessProbe
  container.lifecycle = { preStop: { sleep: {} } }
  const problems = await manifestProblems(deployment)
  t.equal(problems.length, 2, 'one line of schema errors, one unknown field')
  t.match(problems[0], /spec\/replicas must be integer/)
  t.match(problems[0], /preStop\/sleep must have required property seconds/)
  t.match(problems[1], /containers\[0\]\.readinesProbe: not a field of the Kubernetes API/)
  t.match(await manifestProblems({ apiVersion: 'apps/v1', kind: 'Deployement' }), [/no Kubernetes schema/])
})

t.test('the Kustomization names files that exist and generates valid ConfigMaps from them', async t => {
  const kustomizations = manifests.filter(m => m.doc.apiVersion.startsWith(KUSTOMIZE))
  t.equal(kustomizations.length, 1)
  for (const { file, doc } of kustomizations) {
    t.same(Object.keys(doc).filter(k => !['apiVersion', 'kind', 'generatorOptions', 'configMapGenerator', 'resources'].includes(k)), [], `${file}: known fields only`)
    t.ok(doc.configMapGenerator.length > 0)
    for (const generator of doc.configMapGenerator) {
      const data: Record<string, string> = {}
      for (const path of generator.files) {
        const full = join(K8S, path)
        t.ok(existsSync(full), `${path} exists`)
        data[basename(path)] = readFileSync(full, 'utf8')
      }
      const generated = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: generator.name, labels: generator.options?.labels }, data }
      t.same(await manifestProblems(generated), [], `the generated ConfigMap ${generator.name} is valid`)
      const size = Object.values(data).reduce((n, s) => n + Buffer.byteLength(s), 0)
      t.ok(size < 1024 * 1024, `${generator.name} fits a ConfigMap (${size} bytes < 1 MiB)`)
    }
  }
})

/** a container's environment as the pod sees it: the image's ENV, then envFrom, then env */
function containerEnv (container: Doc): { env: Env; names: string[]; secretRefs: { name: string; secret: string; key: string }[] } {
  const env: Env = { ...readDockerfile(ROOT).stages.at(-1)!.env }
  const names: string[] = []
  const secretRefs: { name: string; secret: string; key: string }[] = []
  for (const source of container.envFrom ?? []) {
    const data = find('ConfigMap', source.configMapRef.name).data as Record<string, string>
    for (const [name, value] of Object.entries(data)) { env[name] = value; names.push(name) }
  }
  for (const entry of container.env ?? []) {
    names.push(entry.name)
    const ref = entry.valueFrom?.secretKeyRef
    if (ref) {
      secretRefs.push({ name: entry.name, secret: ref.name, key: ref.key })
      // the example Secret's placeholders, filled in as an operator would
      const example = find('Secret', ref.name).stringData?.[ref.key] as string | undefined
      env[entry.name] = example?.replaceAll('REPLACE_ME', randomBytes(36).toString('base64url'))
    } else env[entry.name] = entry.value
  }
  return { env, names, secretRefs }
}

const schemaNames = Object.keys(EnvSchema.properties)
const api = find('Deployment', 'hallpass')
const apiPod = api.spec.template.spec
const apiContainer = apiPod.containers[0]
const job = find('Job', 'hallpass-migrate')
const jobContainer = job.spec.template.spec.containers[0]

t.test('the API container: every variable is known, every secret exists, and the production config parses', async t => {
  const { env, names, secretRefs } = containerEnv(apiContainer)
  t.same(names.filter(n => !schemaNames.includes(n) && !NODE_RUNTIME_VARS.includes(n)), [], 'no name the config schema does not know')
  t.same(names.filter((n, i) => names.indexOf(n) !== i), [], 'no variable set twice')
  for (const ref of secretRefs) t.ok(find('Secret', ref.secret).stringData?.[ref.key] !== undefined, `${ref.name}: the Secret ${ref.secret} has the key ${ref.key}`)
  t.equal(env.NODE_ENV, 'production')
  const { config } = parseConfig(env) // throws, naming each variable, when one is missing or bad
  t.equal(config.isProduction, true)
  t.equal(config.migrateOnStart, false, 'the pods leave migrations to the Job')
  // a default that names this machine means nothing inside a pod: each must be set
  const loopbackDefaults = schemaNames.filter(n => /127\.0\.0\.1|localhost/.test(String((EnvSchema.properties as Record<string, { default?: string }>)[n]!.default)))
  const needed = loopbackDefaults.filter(n => !(n === 'DATABASE_ADMIN_URL' && !config.migrateOnStart))
  t.ok(needed.includes('DATABASE_URL') && needed.includes('HOST'))
  t.same(needed.filter(n => !names.includes(n)), [], `set in the pod: ${needed.join(', ')}`)
  t.notOk(names.includes('DATABASE_ADMIN_URL'), 'the schema owner\'s URL stays with the Job')
})

t.test('the migration Job gets the owner\'s URL and nothing the server needs', async t => {
  const { env, names } = containerEnv(jobContainer)
  t.same(names, ['DATABASE_ADMIN_URL'])
  t.notOk(names.includes('JWT_ACCESS_SECRET'), 'no JWT secret')
  t.match(parseMigrateConfig(env).adminUrl, /^postgres:\/\//)
  t.throws(() => parseConfig(env), /JWT_ACCESS_SECRET/, 'the server\'s own parse would refuse this environment: the Job relies on the migrations\' parse')
})

t.test('the API and the Job run the same image, pinned to package.json\'s version, as the image\'s user', async t => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
  t.equal(apiContainer.image, `hallpass:${pkg.version}`)
  t.equal(jobContainer.image, apiContainer.image)
  t.notMatch(apiContainer.image, /:latest$/)
  const final = readDockerfile(ROOT).stages.at(-1)!
  t.same(apiContainer.command ?? final.cmd, final.cmd, 'the API runs the image\'s CMD')
  t.match(jobContainer.command, ['node', /^dist\/scripts\/migrate\.js$/], 'the Job runs the compiled migrations (npm run test:image runs this very command)')
  t.equal(final.user, 'node')
  for (const spec of [apiPod, job.spec.template.spec]) {
    t.equal(spec.securityContext.runAsUser, 1000, 'the `node` user of the official images')
    t.equal(spec.securityContext.runAsNonRoot, true)
  }
})

t.test('ports and probes fit the server', async t => {
  const { env } = containerEnv(apiContainer)
  const { config } = parseConfig(env)
  const ports: Record<string, number> = Object.fromEntries((apiContainer.ports as Doc[]).map(p => [p.name, p.containerPort]))
  t.equal(ports.http, config.port, 'the http port is PORT')
  t.equal(ports.metrics, config.ops.metricsPort, 'the metrics port is METRICS_PORT')
  t.equal(Number(api.spec.template.metadata.annotations['prometheus.io/port']), config.ops.metricsPort, 'Prometheus scrapes METRICS_PORT')
  t.equal(config.host, '0.0.0.0', 'the server listens beyond the pod\'s loopback')
  const expose = readDockerfile(ROOT).stages.at(-1)!.expose
  t.same(Object.values(ports).filter(p => !expose.includes(p)), [], 'the image EXPOSEs both')

  const service = find('Service', 'hallpass')
  for (const port of service.spec.ports) t.ok(port.targetPort in ports, `the Service's ${port.targetPort} names a container port`)
  t.notOk(service.spec.ports.some((p: Doc) => p.targetPort === 'metrics' || p.targetPort === config.ops.metricsPort), '/metrics stays off the Service')
  const podLabels = api.spec.template.metadata.labels
  for (const [kind, selector] of [['Deployment', api.spec.selector.matchLabels], ['Service', service.spec.selector], ['PodDisruptionBudget', find('PodDisruptionBudget').spec.selector.matchLabels]] as const) {
    t.match(podLabels, selector, `the ${kind}'s selector matches the pods`)
  }
  t.match(find('HorizontalPodAutoscaler').spec.scaleTargetRef, { kind: 'Deployment', name: api.metadata.name })

  // each probe answers 200 from a server built as the suite builds it
  const app = await build(t)
  for (const name of ['livenessProbe', 'readinessProbe']) {
    const probe = apiContainer[name].httpGet
    t.ok(probe.port === 'http' || probe.port === config.port, `${name} asks the http port`)
    const res = await app.inject({ method: 'GET', url: probe.path })
    t.equal(res.statusCode, 200, `${name} ${probe.path} answers 200`)
  }
})

t.test('the grace period covers the preStop pause and the server\'s shutdown timeout', async t => {
  const { config } = parseConfig(containerEnv(apiContainer).env)
  const preStop = apiContainer.lifecycle.preStop
  t.notOk('exec' in preStop, 'no binary: the image has no `sleep` to rely on')
  t.type(preStop.sleep?.seconds, 'number', 'the kubelet\'s own sleep (Kubernetes >= 1.30)')
  const graceMs = apiPod.terminationGracePeriodSeconds * 1000
  const neededMs = preStop.sleep.seconds * 1000 + config.shutdownTimeoutMs
  t.ok(graceMs > neededMs, `terminationGracePeriodSeconds ${graceMs} ms > preStop ${preStop.sleep.seconds} s + SHUTDOWN_TIMEOUT ${config.shutdownTimeoutMs} ms`)
})

/** why the container's CPU limit would throttle the event loop while argon2 hashes, or null when it cannot */
function cpuThrottle (resources: Doc, env: Env): string | null {
  const limit = resources.limits?.cpu as string | number | undefined
  if (limit === undefined) return null
  const cores = String(limit).endsWith('m') ? Number(String(limit).slice(0, -1)) / 1000 : Number(limit)
  if (env.UV_THREADPOOL_SIZE === undefined) return `a limit of ${cores} CPU without UV_THREADPOOL_SIZE`
  const pool = Number(env.UV_THREADPOOL_SIZE)
  return cores >= pool + 1 ? null : `a limit of ${cores} CPU for ${pool} hashing threads and the event loop`
}

t.test('the CPU limit, if any, leaves room for argon2 on the thread pool beside the event loop', async t => {
  const { env } = containerEnv(apiContainer)
  t.ok(apiContainer.resources.requests.cpu, 'a CPU request (the HPA scales on it)')
  t.equal(cpuThrottle(apiContainer.resources, env), null)
  // the check can fail: the limit of 1 CPU these manifests had, and one too small for the pool set
  t.match(cpuThrottle({ limits: { cpu: '1' } }, {}), /without UV_THREADPOOL_SIZE/)
  t.match(cpuThrottle({ limits: { cpu: '2000m' } }, { UV_THREADPOOL_SIZE: '4' }), /2 CPU for 4 hashing threads/)
  t.equal(cpuThrottle({ limits: { cpu: '3' } }, { UV_THREADPOOL_SIZE: '2' }), null)
})
