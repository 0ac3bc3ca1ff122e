// What a newcomer reads must match what the code does: .env.example and the README's
// environment table name exactly the variables of the config schema (none missing, none
// extra); the plan's npm scripts run files that exist; `npm run status` lists the migrations.
// (The README's error table is held to the catalogue by error-catalogue.test.ts.)
import t from 'tap'
import { execFileSync, spawnSync } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { EnvSchema } from '../src/config/config.js'
import { TEST_ADMIN_URL } from './helper.js'

const root = new URL('../', import.meta.url)
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8')
const schema = EnvSchema.properties as Record<string, { default?: string }>
const names = Object.keys(schema).sort()

t.test('.env.example sets every variable of the schema once, to its default, and nothing else', async t => {
  const lines = read('.env.example').split('\n').filter(l => l.trim() && !l.startsWith('#'))
  const entries = lines.map(l => /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(l))
  t.same(entries.filter(e => e === null).length, 0, 'every line is NAME=value or a comment')
  const given = entries.map(e => e![1]!)
  t.same([...given].sort(), names, 'the same names as the schema, none missing, none extra')
  t.equal(new Set(given).size, given.length, 'each once')
  for (const e of entries) t.equal(e![2], schema[e![1]!]?.default ?? '', `${e![1]} is its default`)
})

t.test('the README environment table names every variable of the schema, and only those', async t => {
  const readme = read('README.md')
  const start = readme.indexOf('\n## Configuration\n')
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1))
  // first cell of each row: `NAME` or `A` / `B` / `C`
  const rows = [...section.matchAll(/^\| ((?:`[A-Z][A-Z0-9_]*`(?: \/ )?)+) \|/gm)]
  const documented = rows.flatMap(m => [...m[1]!.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map(n => n[1]!))
  t.ok(rows.length > 20, `${rows.length} rows found`)
  t.same(documented.filter(n => !names.includes(n)), [], 'no row names a variable the server does not read')
  t.same(names.filter(n => !documented.includes(n)), [], 'every variable the server reads has a row')
  t.equal(new Set(documented).size, documented.length, 'each once')
})

t.test('the plan\'s test scripts each run an existing, non-empty list of test files', async t => {
  const scripts = JSON.parse(read('package.json')).scripts as Record<string, string>
  const testFiles = readdirSync(new URL('test/', root))
  const planned = ['test:security:rls', 'test:security:sessions', 'test:security:isolation', 'test:e2e:auth', 'test:e2e:websockets', 'test:e2e:portfolio']
  for (const name of planned) {
    const script = scripts[name]
    t.ok(script, `${name} exists`)
    const args = /\btap ((?:test\/\S+\s*)+)$/.exec(script ?? '')?.[1]?.trim().split(/\s+/) ?? []
    t.ok(args.length > 0, `${name} names its files`)
    for (const pattern of args) {
      const re = new RegExp('^' + pattern.replace(/^test\//, '').replace(/[.]/g, '\\.').replace(/\*/g, '[^/]*') + '$')
      const matched = testFiles.filter(f => re.test(f))
      t.ok(matched.length > 0, `${name}: ${pattern} matches a file`)
      t.ok(matched.every(f => f.endsWith('.test.ts')), `${name}: ${pattern} matches test files only`)
    }
  }
  for (const name of ['migrate', 'migrate:down', 'status', 'services', 'services:stop', 'dev']) t.ok(scripts[name], `${name} exists`)
})

t.test('npm run status lists applied and pending migrations, and reads only', async t => {
  const migrations = readdirSync(new URL('migrations/', root)).filter(f => /^\d+_.+\.ts$/.test(f)).map(f => f.replace(/\.ts$/, '')).sort()
  const status = (adminUrl: string): string => execFileSync(process.execPath, ['--import=tsx', 'scripts/migrate-status.ts'], {
    cwd: new URL('.', root), env: { ...process.env, DATABASE_ADMIN_URL: adminUrl }, encoding: 'utf8'
  })
  const migrated = status(TEST_ADMIN_URL)
  t.match(migrated, new RegExp(`applied \\(${migrations.length}\\):`))
  for (const m of migrations) t.match(migrated, new RegExp(`^  ${m}  \\d{4}-\\d\\d-\\d\\dT`, 'm'), `${m} applied, with its time`)
  t.match(migrated, /pending \(0\): none/)

  const absent = new URL(TEST_ADMIN_URL)
  absent.pathname = '/hallpass_status_never_created_test'
  const fresh = status(absent.toString())
  t.match(fresh, /applied \(0\):/)
  t.match(fresh, new RegExp(`pending \\(${migrations.length}\\):\\n${migrations.map(m => `  ${m}`).join('\\n')}`))
  const psql = spawnSync('psql', ['-X', '-A', '-t', absent.toString().replace(/\/[^/]*$/, '/postgres'), '-c', "select count(*) from pg_database where datname = 'hallpass_status_never_created_test'"], { encoding: 'utf8' })
  t.equal(psql.stdout.trim(), '0', 'status created no database')
})
