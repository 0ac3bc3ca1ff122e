// Runs once before the suite (tap's `before`): the test database, made from the migrations.
import { ensureDatabase } from '../src/infra/bootstrap.js'
import { migrate } from '../src/infra/migrate.js'
import { TEST_ADMIN_URL } from './helper.js'

await ensureDatabase(TEST_ADMIN_URL)
await migrate(TEST_ADMIN_URL)
