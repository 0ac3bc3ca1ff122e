// Audit rows carry an id made when the event happened, so writing a batch is idempotent: a retry
// of a batch whose first attempt did reach Postgres (the answer was lost, or the attempt ran late
// after its deadline while Postgres came back) inserts nothing twice. Rows written before this
// migration have none (a unique index ignores nulls).
import type { MigrationBuilder } from 'node-pg-migrate'

export const up = (pgm: MigrationBuilder): void => {
  pgm.sql(`
    alter table audit_logs add column event_id uuid;
    create unique index audit_logs_event_id_key on audit_logs (event_id);
  `)
}

export const down = (pgm: MigrationBuilder): void => {
  pgm.sql(`
    drop index if exists audit_logs_event_id_key;
    alter table audit_logs drop column if exists event_id;
  `)
}
