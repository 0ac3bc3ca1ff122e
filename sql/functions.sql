-- app.test_rls_isolation(): a self-check of the policies, run as the app role. It creates
-- two throwaway users with a portfolio, a holding and a transaction each, checks that each
-- context sees only its own rows and that no context sees none, then undoes everything by
-- raising inside its own block (a subtransaction), so nothing it wrote survives. Returns
-- false, never raises, when isolation does not hold (e.g. when called by a role that
-- bypasses RLS).
create or replace function app.test_rls_isolation() returns boolean
language plpgsql volatile as $$
declare
  a uuid := gen_random_uuid();
  b uuid := gen_random_uuid();
  pa uuid := gen_random_uuid();
  pb uuid := gen_random_uuid();
  ok boolean := false;
begin
  begin
    insert into users (id, email, password_hash)
      values (a, 'rls-check-' || a || '@invalid.test', 'x'), (b, 'rls-check-' || b || '@invalid.test', 'x');

    perform set_config('app.user_id', a::text, true);
    insert into portfolios (id, user_id, name) values (pa, a, 'rls check');
    insert into holdings (user_id, portfolio_id, symbol, quantity) values (a, pa, 'AAA', 1);
    insert into transactions (user_id, portfolio_id, symbol, side, quantity, price) values (a, pa, 'AAA', 'buy', 1, 1);

    perform set_config('app.user_id', b::text, true);
    insert into portfolios (id, user_id, name) values (pb, b, 'rls check');
    insert into holdings (user_id, portfolio_id, symbol, quantity) values (b, pb, 'BBB', 1);
    insert into transactions (user_id, portfolio_id, symbol, side, quantity, price) values (b, pb, 'BBB', 'buy', 1, 1);

    -- as b: exactly b's rows
    ok := (select count(*) = 1 and bool_and(user_id = b) from portfolios where user_id in (a, b))
      and (select count(*) = 1 and bool_and(user_id = b) from holdings where user_id in (a, b))
      and (select count(*) = 1 and bool_and(user_id = b) from transactions where user_id in (a, b));

    -- as a: exactly a's rows
    perform set_config('app.user_id', a::text, true);
    ok := ok
      and (select count(*) = 1 and bool_and(user_id = a) from portfolios where user_id in (a, b))
      and (select count(*) = 1 and bool_and(user_id = a) from holdings where user_id in (a, b))
      and (select count(*) = 1 and bool_and(user_id = a) from transactions where user_id in (a, b));

    -- no context, and a malformed one: nothing at all
    perform set_config('app.user_id', '', true);
    ok := ok and not exists (select 1 from portfolios) and not exists (select 1 from holdings)
      and not exists (select 1 from transactions);
    perform set_config('app.user_id', 'not-a-uuid', true);
    ok := ok and not exists (select 1 from portfolios);

    raise exception using errcode = 'P0001', message = 'rls self-check rollback';
  exception
    when raise_exception then null; -- the planned rollback of the block
    when others then ok := false;
  end;
  return coalesce(ok, false);
end
$$;

-- Removes refresh tokens that expired, or were revoked, more than `days` days ago; returns
-- how many rows went. Tokens of a live family are never touched while they are valid.
create or replace function cleanup_expired_refresh_tokens(days int) returns integer
language plpgsql volatile as $$
declare
  removed integer;
begin
  if days is null or days < 0 then
    raise exception 'days must be >= 0';
  end if;
  delete from refresh_tokens
   where expires_at < now() - make_interval(days => days)
      or revoked_at < now() - make_interval(days => days);
  get diagnostics removed = row_count;
  return removed;
end
$$;
