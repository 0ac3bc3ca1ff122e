// Admins can disable an account: its sessions end and its logins are refused until enabled.
import type { MigrationBuilder } from 'node-pg-migrate'

export const up = (pgm: MigrationBuilder): void => {
  pgm.sql('alter table users add column disabled_at timestamptz')
}

export const down = (pgm: MigrationBuilder): void => {
  pgm.sql('alter table users drop column disabled_at')
}
