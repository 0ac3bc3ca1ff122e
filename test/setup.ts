// Runs once before the suite (tap's `before`): a fresh test database, made from the migrations.
// Dropped and recreated on every run, so each run starts from the same empty state and reports
// the same number of assertions; no test can lean on rows an earlier run left behind.
// Only ever a database whose name ends in "_test" is dropped (testDatabaseUrl adds the suffix).
import postgres from 'postgres'
import { ensureDatabase } from '../src/infra/bootstrap.js'
import { migrate } from '../src/infra/migrate.js'
import { TEST_ADMIN_URL } from './helper.js'

const name = decodeURIComponent(new URL(TEST_ADMIN_URL).pathname.slice(1))
if (!/^[A-Za-z_][A-Za-z0-9_]*_test$/.test(name)) throw new Error(`refusing to reset ${JSON.stringify(name)}: not a *_test database`)

const maintenance = new URL(TEST_ADMIN_URL)
maintenance.pathname = '/postgres'
const sql = postgres(maintenance.toString(), { max: 1, onnotice: () => {}, connect_timeout: 5 })
try {
  await sql.unsafe(`drop database if exists "${name}" with (force)`)
} finally {
  await sql.end({ timeout: 5 })
}

await ensureDatabase(TEST_ADMIN_URL)
await migrate(TEST_ADMIN_URL)
