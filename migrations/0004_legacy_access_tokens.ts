// Each refresh token remembers the access token issued with it, so revoking a family (reuse
// of a rotated token, logout-all, an admin) can deny-list that family's live access tokens.
import type { MigrationBuilder } from 'node-pg-migrate'

export const up = (pgm: MigrationBuilder): void => {
  pgm.sql(`
    alter table refresh_tokens add column access_jti text, add column access_expires_at timestamptz;
    create index refresh_tokens_live_access_idx on refresh_tokens (user_id, access_expires_at) where access_jti is not null;
  `)
}

export const down = (pgm: MigrationBuilder): void => {
  pgm.sql(`
    drop index refresh_tokens_live_access_idx;
    alter table refresh_tokens drop column access_jti, drop column access_expires_at;
  `)
}
