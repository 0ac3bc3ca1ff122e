// npm run legacy:report — how far the migration to sessions has come: users who still hold a
// live legacy refresh family, and how many of them the current rollout already puts on
// sessions (they move over at their next refresh). Add --json for machine-readable output.
import postgres from 'postgres'
import { parseConfig } from '../src/config/config.js'
import { getsSession, effectivePercentage } from '../src/auth/rollout.js'

export interface LegacyReport {
  effectivePercentage: number
  usersWithLiveLegacyFamilies: number
  liveFamilies: number
  inSessionsBucket: number
  stillLegacy: number
}

export async function legacyReport (databaseUrl: string, rollout: Parameters<typeof getsSession>[0]): Promise<LegacyReport> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} })
  try {
    const rows = await sql<{ userId: string; families: number }[]>`
      select user_id as "userId", count(distinct family_id)::int as families
      from refresh_tokens where revoked_at is null and expires_at > now()
      group by user_id`
    const inBucket = rows.filter(r => getsSession(rollout, r.userId)).length
    return {
      effectivePercentage: effectivePercentage(rollout),
      usersWithLiveLegacyFamilies: rows.length,
      liveFamilies: rows.reduce((n, r) => n + r.families, 0),
      inSessionsBucket: inBucket,
      stillLegacy: rows.length - inBucket
    }
  } finally {
    await sql.end({ timeout: 5 })
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { config } = parseConfig()
  const report = await legacyReport(config.db.url, config.rollout)
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(report))
  } else {
    console.log(`rollout in force: ${report.effectivePercentage}% of users get sessions`)
    console.log(`users with a live legacy refresh family: ${report.usersWithLiveLegacyFamilies} (${report.liveFamilies} families)`)
    console.log(`  of them in the sessions bucket (move at their next refresh): ${report.inSessionsBucket}`)
    console.log(`  of them staying on legacy at this percentage: ${report.stillLegacy}`)
  }
}
