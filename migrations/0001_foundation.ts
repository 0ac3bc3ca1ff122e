// The foundation schema: users, the RLS-scoped financial tables, the auth tables, audit
// logs, and the grants of the app role (hallpass_app: LOGIN, NOBYPASSRLS, owns nothing).
import type { MigrationBuilder } from 'node-pg-migrate'
import { readSqlFile } from '../src/infra/sql-files.js'

export const up = (pgm: MigrationBuilder): void => {
  pgm.sql(`
    -- the one place the app role is made; roles are cluster-wide, so two databases migrated at
    -- once may race here: the loser finds the role made and carries on
    do $$ begin
      if not exists (select from pg_roles where rolname = 'hallpass_app') then
        create role hallpass_app login nobypassrls nosuperuser nocreatedb nocreaterole;
      end if;
    exception when duplicate_object or unique_violation then null;
    end $$;

    create table users (
      id uuid primary key default gen_random_uuid(),
      email text not null check (email = lower(email) and length(email) <= 254),
      password_hash text not null,
      role text not null default 'user' check (role in ('user', 'admin')),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create unique index users_email_lower_key on users (lower(email));

    create table portfolios (
      id uuid primary key default gen_random_uuid(),
      user_id uuid not null references users (id) on delete cascade,
      name text not null check (length(name) between 1 and 100),
      base_currency char(3) not null default 'USD',
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      -- lets holdings and transactions prove their portfolio belongs to the same user
      unique (id, user_id)
    );
    create index portfolios_user_id_idx on portfolios (user_id, created_at, id);

    create table holdings (
      id uuid primary key default gen_random_uuid(),
      user_id uuid not null,
      portfolio_id uuid not null,
      symbol text not null,
      quantity numeric(28, 8) not null default 0 check (quantity >= 0),
      average_cost numeric(28, 8) not null default 0 check (average_cost >= 0),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (portfolio_id, symbol),
      foreign key (portfolio_id, user_id) references portfolios (id, user_id) on delete cascade
    );
    create index holdings_user_id_idx on holdings (user_id);

    create table transactions (
      id uuid primary key default gen_random_uuid(),
      user_id uuid not null,
      portfolio_id uuid not null,
      symbol text not null,
      side text not null check (side in ('buy', 'sell')),
      quantity numeric(28, 8) not null check (quantity > 0),
      price numeric(28, 8) not null check (price >= 0),
      fee numeric(28, 8) not null default 0 check (fee >= 0),
      executed_at timestamptz not null default now(),
      created_at timestamptz not null default now(),
      foreign key (portfolio_id, user_id) references portfolios (id, user_id) on delete cascade
    );
    create index transactions_user_id_idx on transactions (user_id);
    create index transactions_portfolio_idx on transactions (portfolio_id, executed_at desc, id desc);

    create table refresh_tokens (
      id uuid primary key default gen_random_uuid(),
      token_hash bytea not null unique,
      family_id uuid not null,
      user_id uuid not null references users (id) on delete cascade,
      parent_id uuid references refresh_tokens (id) on delete set null,
      replaced_by uuid references refresh_tokens (id) on delete set null,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      rotated_at timestamptz,
      revoked_at timestamptz,
      revoked_reason text,
      device text,
      user_agent text,
      ip inet
    );
    create index refresh_tokens_user_idx on refresh_tokens (user_id) where revoked_at is null;
    create index refresh_tokens_family_idx on refresh_tokens (family_id);
    create index refresh_tokens_expires_idx on refresh_tokens (expires_at);

    create table user_sessions (
      public_id text primary key,
      user_id uuid not null references users (id) on delete cascade,
      created_at timestamptz not null default now(),
      last_seen_at timestamptz not null default now(),
      expires_at timestamptz not null,
      revoked_at timestamptz,
      revoked_reason text,
      device jsonb not null default '{}',
      ip inet,
      user_agent text
    );
    create index user_sessions_user_idx on user_sessions (user_id, created_at desc);
    create index user_sessions_expires_idx on user_sessions (expires_at) where revoked_at is null;

    create table jwt_deny_list (
      jti text primary key,
      user_id uuid,
      expires_at timestamptz not null,
      created_at timestamptz not null default now()
    );
    create index jwt_deny_list_expires_idx on jwt_deny_list (expires_at);

    -- no foreign key: the audit trail outlives the users it names
    create table audit_logs (
      id bigint generated always as identity primary key,
      type text not null,
      user_id uuid,
      session_public_id text,
      ip inet,
      user_agent text,
      details jsonb not null default '{}',
      created_at timestamptz not null default now()
    );
    create index audit_logs_user_idx on audit_logs (user_id, created_at desc);
    create index audit_logs_type_idx on audit_logs (type, created_at desc);
    create index audit_logs_created_idx on audit_logs (created_at desc);
  `)

  pgm.sql(readSqlFile('rls.sql'))
  pgm.sql(readSqlFile('functions.sql'))

  // only what the app needs: no DDL, no TRUNCATE, no ownership; audit rows are append-only
  pgm.sql(`
    grant usage on schema public, app to hallpass_app;
    grant select, insert, update on users to hallpass_app;
    grant select, insert, update, delete on portfolios, holdings, transactions to hallpass_app;
    grant select, insert, update, delete on refresh_tokens to hallpass_app;
    grant select, insert, update, delete on user_sessions to hallpass_app;
    grant select, insert, delete on jwt_deny_list to hallpass_app;
    grant select, insert on audit_logs to hallpass_app;
    grant execute on function app.current_user_id(), app.current_actor_is_admin(),
      app.test_rls_isolation(), cleanup_expired_refresh_tokens(int) to hallpass_app;
    revoke execute on function app.test_rls_isolation() from public;
    revoke execute on function cleanup_expired_refresh_tokens(int) from public;
  `)
}

export const down = (pgm: MigrationBuilder): void => {
  // the role is cluster-wide and may serve other databases: it stays, its grants go with the objects
  pgm.sql(`
    drop function if exists cleanup_expired_refresh_tokens(int);
    drop table if exists audit_logs, jwt_deny_list, user_sessions, refresh_tokens, transactions, holdings, portfolios, users;
    revoke all on schema public from hallpass_app;
    drop schema if exists app cascade;
  `)
}
