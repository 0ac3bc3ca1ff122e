// npm run seed: the demo user (not an admin) with a portfolio, idempotent. Prints the login.
import postgres from 'postgres'
import { parseConfig } from '../src/config/config.js'
import { hashPassword } from '../src/auth/passwords/hash.js'

export const DEMO_EMAIL = 'demo@hallpass.local'
export const DEMO_PASSWORD = 'demo-portfolio-2026'

const { config } = parseConfig()
const sql = postgres(config.db.adminUrl, { max: 1, onnotice: () => {} })
try {
  const passwordHash = await hashPassword(DEMO_PASSWORD)
  await sql.begin(async tx => {
    const [user] = await tx<{ id: string }[]>`
      insert into users (email, password_hash) values (${DEMO_EMAIL}, ${passwordHash})
      on conflict ((lower(email))) do update set password_hash = excluded.password_hash, updated_at = now()
      returning id`
    const [existing] = await tx`select 1 from portfolios where user_id = ${user!.id}`
    if (!existing) {
      const [p] = await tx<{ id: string }[]>`insert into portfolios (user_id, name) values (${user!.id}, 'Main') returning id`
      await tx`
        insert into holdings (user_id, portfolio_id, symbol, quantity, average_cost) values
          (${user!.id}, ${p!.id}, 'AAPL', '10', '182.50'),
          (${user!.id}, ${p!.id}, 'MSFT', '4', '405.10')`
    }
  })
  console.log(`seed: demo user ${DEMO_EMAIL} / ${DEMO_PASSWORD}`)
} finally {
  await sql.end({ timeout: 5 })
}
