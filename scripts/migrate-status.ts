// npm run status: the migrations applied to DATABASE_ADMIN_URL's database (name and when) and
// those still pending, read from node-pg-migrate's own table and the migrations folder. Reads
// only: nothing is created or locked, so it is safe against a live database.
import { readdirSync } from 'node:fs'
import postgres from 'postgres'
import { parseConfig, ConfigError } from '../src/config/config.js'

const MIGRATIONS_DIR = new URL('../migrations/', import.meta.url)

try {
  const { config } = parseConfig()
  const files = readdirSync(MIGRATIONS_DIR).filter(f => /^\d+_.+\.(ts|js)$/.test(f) && !f.endsWith('.d.ts')).map(f => f.replace(/\.(ts|js)$/, '')).sort()
  const url = new URL(config.db.adminUrl)
  const sql = postgres(config.db.adminUrl, { max: 1, onnotice: () => {}, connect_timeout: 5 })
  let applied: { name: string; run_on: Date }[] = []
  try {
    const [table] = await sql`select to_regclass('public.pgmigrations') as t`
    if (table?.t) applied = await sql<{ name: string; run_on: Date }[]>`select name, run_on from pgmigrations order by run_on, id`
  } catch (err) {
    if ((err as { code?: string }).code !== '3D000') throw err // no database yet: everything is pending
  } finally {
    await sql.end({ timeout: 5 })
  }
  const done = new Set(applied.map(m => m.name))
  const pending = files.filter(f => !done.has(f))
  console.log(`database ${decodeURIComponent(url.pathname.slice(1))} on ${url.host}`)
  console.log(`applied (${applied.length}):`)
  for (const m of applied) console.log(`  ${m.name}  ${m.run_on.toISOString()}${files.includes(m.name) ? '' : '  (no such file here)'}`)
  console.log(`pending (${pending.length}):${pending.length ? '' : ' none'}`)
  for (const name of pending) console.log(`  ${name}`)
  if (pending.length) console.log('run them with: npm run migrate')
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : `status failed: ${(err as Error).message}`)
  process.exit(1)
}
