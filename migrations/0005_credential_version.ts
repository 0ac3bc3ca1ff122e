// A credential version per user: every operation that revokes all of a user's credentials
// (password change, disable, logout-all, admin revoke-all, role change) bumps it in the same
// transaction, and a credential issued under an older version is refused. Refresh tokens
// remember the version they were issued under; access_jti gets the index the legacy logout
// lookup needs.
import type { MigrationBuilder } from 'node-pg-migrate'

export const up = (pgm: MigrationBuilder): void => {
  pgm.sql(`
    alter table users
      add column credential_version bigint not null default 1,
      add column credential_changed_at timestamptz;
    alter table refresh_tokens add column credential_version bigint not null default 1;
    create index refresh_tokens_access_jti_idx on refresh_tokens (access_jti) where access_jti is not null;
    create index users_credential_changed_idx on users (credential_changed_at) where credential_changed_at is not null;
  `)
}

export const down = (pgm: MigrationBuilder): void => {
  pgm.sql(`
    drop index users_credential_changed_idx;
    drop index refresh_tokens_access_jti_idx;
    alter table refresh_tokens drop column credential_version;
    alter table users drop column credential_version, drop column credential_changed_at;
  `)
}
