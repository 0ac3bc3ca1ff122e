// Creates the database named in DATABASE_ADMIN_URL when it is missing. Connects to the
// server's maintenance database, since the target may not exist yet. The app role is created
// in one place only, the first migration, next to the grants it needs.
import postgres from 'postgres'

export async function ensureDatabase (adminUrl: string): Promise<{ created: boolean; database: string }> {
  const target = new URL(adminUrl)
  const database = decodeURIComponent(target.pathname.slice(1))
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(database)) {
    throw new Error(`database name ${JSON.stringify(database)} must be a plain identifier`)
  }
  const maintenance = new URL(adminUrl)
  maintenance.pathname = '/postgres'
  const sql = postgres(maintenance.toString(), { max: 1, onnotice: () => {}, connect_timeout: 5 })
  try {
    const [exists] = await sql`select 1 from pg_database where datname = ${database}`
    if (exists) return { created: false, database }
    await sql.unsafe(`create database "${database}"`).catch(ignoreDuplicate)
    return { created: true, database }
  } finally {
    await sql.end({ timeout: 5 })
  }
}

// two processes may race to create the same object; the loser's error is harmless
function ignoreDuplicate (err: { code?: string }): void {
  if (err.code !== '42P04' && err.code !== '23505') throw err
}
