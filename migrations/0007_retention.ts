// Retention: batched deletes the retention jobs call (src/ops/retention.ts). Each call removes at
// most `batch_size` rows, chosen by ctid with SKIP LOCKED, so one statement stays short, never
// waits on a row someone else holds, and never locks a table for long.
// Audit rows are append-only for the app role (no DELETE grant): purge_audit_logs is the only way
// it can remove any, runs as the owner (security definer), and refuses to touch rows younger than
// 30 days, so a compromised app cannot wipe the recent trail.
import type { MigrationBuilder } from 'node-pg-migrate'

export const up = (pgm: MigrationBuilder): void => {
  pgm.sql(`
    create or replace function cleanup_expired_refresh_tokens(days int, batch_size int) returns integer
    language plpgsql volatile as $$
    declare
      removed integer;
    begin
      if days is null or days < 0 or batch_size is null or batch_size < 1 then
        raise exception 'days must be >= 0 and batch_size >= 1';
      end if;
      delete from refresh_tokens where ctid in (
        select ctid from refresh_tokens
         where expires_at < now() - make_interval(days => days)
            or revoked_at < now() - make_interval(days => days)
         limit batch_size for update skip locked);
      get diagnostics removed = row_count;
      return removed;
    end
    $$;

    create or replace function purge_audit_logs(days int, batch_size int) returns integer
    language plpgsql volatile security definer set search_path = public, pg_temp as $$
    declare
      removed integer;
    begin
      if days is null or days < 30 or batch_size is null or batch_size < 1 then
        raise exception 'audit rows are kept at least 30 days (days >= 30, batch_size >= 1)';
      end if;
      delete from audit_logs where ctid in (
        select ctid from audit_logs where created_at < now() - make_interval(days => days)
         limit batch_size for update skip locked);
      get diagnostics removed = row_count;
      return removed;
    end
    $$;

    revoke execute on function cleanup_expired_refresh_tokens(int, int), purge_audit_logs(int, int) from public;
    grant execute on function cleanup_expired_refresh_tokens(int, int), purge_audit_logs(int, int) to hallpass_app;
  `)
}

export const down = (pgm: MigrationBuilder): void => {
  pgm.sql(`
    drop function if exists purge_audit_logs(int, int);
    drop function if exists cleanup_expired_refresh_tokens(int, int);
  `)
}
