-- Row Level Security for the financial tables. The server connects as hallpass_app (no
-- BYPASSRLS, owns nothing); FORCE makes the policies bind the owner too. The context is set
-- per transaction with set_config('app.user_id', …, true) and set_config('app.role', …, true).
--
-- Fail-closed: a missing, empty ('' is what a finished transaction leaves behind) or
-- malformed app.user_id yields NULL, and `user_id = NULL` is never true, so such a query sees
-- zero rows and every write is refused by WITH CHECK. No cast error can reveal anything.
-- Each policy calls the functions as `(select …)` so Postgres evaluates them once per
-- statement (an InitPlan), not once per row; every user_id column is indexed.

create schema if not exists app;

-- Migration 0009 replaces this body with one Postgres can inline (no FROM): same answers, no
-- SQL-function executor on every statement.
create or replace function app.current_user_id() returns uuid
language sql stable parallel safe as $$
  select case
    when s ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' then s::uuid
  end
  from (select current_setting('app.user_id', true) as s) as ctx
$$;

-- an admin context needs both the admin role and a well-formed acting user id
create or replace function app.current_actor_is_admin() returns boolean
language sql stable parallel safe as $$
  select coalesce(current_setting('app.role', true) = 'admin', false)
     and app.current_user_id() is not null
$$;

alter table portfolios enable row level security;
alter table portfolios force row level security;
create policy portfolios_owner on portfolios for all
  using (user_id = (select app.current_user_id()))
  with check (user_id = (select app.current_user_id()));
create policy portfolios_admin_read on portfolios for select
  using ((select app.current_actor_is_admin()));

alter table holdings enable row level security;
alter table holdings force row level security;
create policy holdings_owner on holdings for all
  using (user_id = (select app.current_user_id()))
  with check (user_id = (select app.current_user_id()));
create policy holdings_admin_read on holdings for select
  using ((select app.current_actor_is_admin()));

alter table transactions enable row level security;
alter table transactions force row level security;
create policy transactions_owner on transactions for all
  using (user_id = (select app.current_user_id()))
  with check (user_id = (select app.current_user_id()));
create policy transactions_admin_read on transactions for select
  using ((select app.current_actor_is_admin()));
