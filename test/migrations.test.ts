// Up, down and up again on a fresh database of its own, dropped afterwards.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import postgres from 'postgres'
import { ensureDatabase } from '../src/infra/bootstrap.js'
import { migrate } from '../src/infra/migrate.js'
import { TEST_ADMIN_URL } from './helper.js'

const name = `hallpass_migcheck_${randomBytes(4).toString('hex')}`
const url = new URL(TEST_ADMIN_URL)
url.pathname = '/' + name
const adminUrl = url.toString()

t.teardown(async () => {
  const maint = new URL(TEST_ADMIN_URL)
  maint.pathname = '/postgres'
  const sql = postgres(maint.toString(), { max: 1, onnotice: () => {} })
  await sql.unsafe(`drop database if exists "${name}" with (force)`)
  await sql.end()
})

const TABLES = ['audit_logs', 'holdings', 'jwt_deny_list', 'portfolios', 'refresh_tokens', 'transactions', 'user_sessions', 'users']

async function tables (): Promise<string[]> {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} })
  try {
    const rows = await sql<{ tablename: string }[]>`select tablename from pg_tables where schemaname = 'public' and tablename <> 'pgmigrations' order by 1`
    return rows.map(r => r.tablename)
  } finally {
    await sql.end()
  }
}

t.test('up, down, up on a fresh database', async t => {
  t.same(await ensureDatabase(adminUrl), { created: true, database: name })
  t.same(await ensureDatabase(adminUrl), { created: false, database: name }, 'idempotent')

  const first = await migrate(adminUrl)
  t.ok(first.length >= 1)
  t.same(await tables(), TABLES)
  t.same(await migrate(adminUrl), [], 'nothing left to run')

  await migrate(adminUrl, { direction: 'down', count: first.length })
  t.same(await tables(), [], 'down removes every table')

  t.same(await migrate(adminUrl), first, 'up again runs the same migrations')
  t.same(await tables(), TABLES)

  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} })
  t.teardown(() => sql.end())
  const forced = await sql`select relname from pg_class where relname in ('portfolios','holdings','transactions') and relrowsecurity and relforcerowsecurity`
  t.equal(forced.length, 3, 'RLS enabled and forced on the three financial tables')
  const [role] = await sql`select rolsuper, rolbypassrls, rolcanlogin from pg_roles where rolname = 'hallpass_app'`
  t.same(role, { rolsuper: false, rolbypassrls: false, rolcanlogin: true })
  const owned = await sql`select c.relname from pg_class c join pg_roles r on r.oid = c.relowner where r.rolname = 'hallpass_app'`
  t.equal(owned.length, 0, 'the app role owns nothing')
})
