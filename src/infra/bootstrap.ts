// Creates the database named in DATABASE_ADMIN_URL and the app role when they are missing.
// Connects to the server's maintenance database, since the target may not exist yet.
import postgres from 'postgres'

const APP_ROLE = 'hallpass_app'

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
    // APP_ROLE is a constant identifier, so splicing it here is safe (DO takes no parameters)
    await sql.unsafe(`
      do $$ begin
        if not exists (select from pg_roles where rolname = '${APP_ROLE}') then
          create role ${APP_ROLE} login nobypassrls nosuperuser nocreatedb nocreaterole;
        end if;
      end $$`).catch(ignoreDuplicate)
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
  if (err.code !== '42P04' && err.code !== '42710' && err.code !== '23505') throw err
}
