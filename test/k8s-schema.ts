// Checks a Kubernetes manifest offline against the API's schemas (kubernetes-models: the OpenAPI
// definitions compiled to validators), and rejects fields the API does not know, which those
// validators let through (the API server would drop them silently, as `kubectl apply` does
// without --validate=strict: a misspelt `readinessProbe` is simply no probe).
//
// Unknown fields are found by watching the validator: it reads every property its schema
// defines, and lists the keys of free-form maps (labels, ConfigMap data). A key of an object the
// validator visited that it neither read nor listed is one the schema does not define.

interface Seen { read: Set<string | symbol>; listed: boolean }
// a kubernetes-models class: its validate() checks `this` against the kind's schema and throws
interface ModelClass { prototype: { validate: () => void } }

function watch (value: unknown, seen: WeakMap<object, Seen>, proxies: WeakMap<object, object>): unknown {
  if (value === null || typeof value !== 'object') return value
  const known = proxies.get(value)
  if (known) return known
  const record: Seen = { read: new Set(), listed: false }
  seen.set(value, record)
  const proxy = new Proxy(value, {
    get (target, key, receiver) {
      record.read.add(key)
      return watch(Reflect.get(target, key, receiver), seen, proxies)
    },
    has (target, key) {
      record.read.add(key)
      return Reflect.has(target, key)
    },
    ownKeys (target) {
      record.listed = true
      return Reflect.ownKeys(target)
    }
  })
  proxies.set(value, proxy)
  return proxy
}

function unknownFields (value: unknown, seen: WeakMap<object, Seen>, path: string): string[] {
  if (value === null || typeof value !== 'object') return []
  const record = seen.get(value)
  if (!record) return [] // below a field already reported, or a value the schema does not describe
  if (Array.isArray(value)) return value.flatMap((v, i) => unknownFields(v, seen, `${path}[${i}]`))
  const problems: string[] = []
  for (const [key, child] of Object.entries(value)) {
    if (!record.listed && !record.read.has(key)) problems.push(`${path}.${key}: not a field of the Kubernetes API`)
    else problems.push(...unknownFields(child, seen, `${path}.${key}`))
  }
  return problems
}

/** the schema's complaints and the unknown fields of one manifest; empty when it is valid */
export async function manifestProblems (doc: { apiVersion?: unknown; kind?: unknown }): Promise<string[]> {
  const { apiVersion, kind } = doc
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return ['apiVersion and kind are required']
  let model: ModelClass | undefined
  try {
    // kubernetes-models lays its classes out as <group>/<version>/<Kind> (the core group as v1/<Kind>)
    model = ((await import(`kubernetes-models/${apiVersion}/${kind}`)) as Record<string, ModelClass>)[kind]
  } catch {}
  if (!model) return [`${apiVersion} ${kind}: no Kubernetes schema for it`]
  const seen = new WeakMap<object, Seen>()
  const problems: string[] = []
  try {
    model.prototype.validate.call(watch(doc, seen, new WeakMap()))
  } catch (err) {
    problems.push(`${kind}: ${(err as Error).message}`)
  }
  return [...problems, ...unknownFields(doc, seen, kind)]
}
