// Runs once before the suite (tap's `before`): the test database, made from the migrations.
// Not dropped first: several runs may share it, and every test makes its own unique data.
// Order is not checked here, so a migration added beside an applied one still applies.
import { ensureDatabase } from '../src/infra/bootstrap.js'
import { migrate } from '../src/infra/migrate.js'
import { TEST_ADMIN_URL } from './helper.js'

await ensureDatabase(TEST_ADMIN_URL)
await migrate(TEST_ADMIN_URL, { checkOrder: false })
