// user_sessions becomes the durable record of every session, so Postgres can check one when
// Redis is unreachable and repopulate an empty Redis: the key hash (the SHA-256 that names the
// session in Redis, never the secret), its idle expiry and the credential version it was
// created under. Rows written before this migration have no key hash: they stay audit history.
import type { MigrationBuilder } from 'node-pg-migrate'

export const up = (pgm: MigrationBuilder): void => {
  pgm.sql(`
    alter table user_sessions
      add column key_hash text,
      add column idle_expires_at timestamptz,
      add column credential_version bigint;
    create unique index user_sessions_key_hash_key on user_sessions (key_hash) where key_hash is not null;
    create index user_sessions_revoked_idx on user_sessions (revoked_at) where revoked_at is not null and key_hash is not null;
  `)
}

export const down = (pgm: MigrationBuilder): void => {
  pgm.sql(`
    drop index user_sessions_revoked_idx;
    drop index user_sessions_key_hash_key;
    alter table user_sessions drop column key_hash, drop column idle_expires_at, drop column credential_version;
  `)
}
