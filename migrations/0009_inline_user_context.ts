// app.current_user_id() as one SELECT without a FROM, so Postgres inlines it into the policies'
// `(select app.current_user_id())` InitPlans. The form of 0001 (sql/rls.sql) read the setting in a
// FROM subquery, which no planner inlines: every statement ran it through the SQL-function
// executor, which plans the body anew each time, about 27 µs of Postgres CPU per RLS read
// (pgbench -M prepared, set_config + the function: 84 µs before, 58 µs after). Same answer for
// every input: a well-formed uuid, else NULL (fail-closed).
import type { MigrationBuilder } from 'node-pg-migrate'

const UUID = String.raw`'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'`

export const up = (pgm: MigrationBuilder): void => {
  pgm.sql(`
    create or replace function app.current_user_id() returns uuid
    language sql stable parallel safe as $fn$
      select case when current_setting('app.user_id', true) ~ ${UUID} then current_setting('app.user_id', true)::uuid end
    $fn$;
  `)
}

export const down = (pgm: MigrationBuilder): void => {
  pgm.sql(`
    create or replace function app.current_user_id() returns uuid
    language sql stable parallel safe as $fn$
      select case when s ~ ${UUID} then s::uuid end
      from (select current_setting('app.user_id', true) as s) as ctx
    $fn$;
  `)
}
