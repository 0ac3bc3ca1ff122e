// The Lua scripts of the session store. Each runs atomically in Redis, so a read and its
// sliding touch, or a session and its per-user index, can never be seen half-changed.
//
// Keys: every key of one user carries the hash tag {<user tag>}, so a script that touches a
// session and the user's index stays in one slot and runs unchanged on Redis Cluster. The
// scripts derive session keys from index members (same tag, same slot).
//
// Session record: one string (layout in redis-record.ts: seen, idle, abs, cre, cv first, then uid, role, pid, ip,
// em, the device and ua), written with its expiry in the same SET. Earlier builds wrote a hash with the fields uid, em,
// role, pid, cre, seen, idle, abs, ip, ua, dev (JSON), cv: every script still reads and keeps that form, so sessions
// created before an upgrade live on, and SESSION_RECORD_FORMAT=hash writes it for a rolling upgrade from such a build.
//
// Credential version key "{<user tag>}:cv": written only by a user-wide revocation (REVOKE with a
// version), together with the sweep of the user's sessions, in one atomic call. CREATE refuses a
// login that read an older version, validation (a plain read in store.ts) refuses a session older than it. A missing key means
// "not bumped lately": every session older than a bump was deleted by that bump's sweep. Times are epoch ms from Redis' own clock,
// so every instance agrees on them.
//
// Index: a sorted set, member "<publicId>:<session key suffix>", score = created at.

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`

// a record in either form (see the top of this file)
const RECORD = `
local SEP = '\\31'
-- positions of the first n separators of a string record, or nil
local function seps(v, n)
  local out, at = {}, 0
  for i = 1, n do
    at = string.find(v, SEP, at + 1, true)
    if not at then return nil end
    out[i] = at
  end
  return out
end
local function clean(s) return (string.gsub(s or '', SEP, '')) end
-- the string form of a session key's record (a hash of an earlier build converted), or nil
local function record_of(key)
  local kind = redis.call('TYPE', key).ok
  if kind == 'string' then return redis.call('GET', key) end
  if kind ~= 'hash' then return nil end
  local h = redis.call('HMGET', key, 'seen', 'idle', 'abs', 'cre', 'cv', 'uid', 'role', 'pid', 'ip', 'em', 'dev', 'ua')
  if not h[1] then return nil end
  local ok, d = pcall(cjson.decode, h[11] or '{}')
  if not ok or type(d) ~= 'table' then d = {} end
  local function text(x) if type(x) == 'string' then return clean(x) end return 'unknown' end
  return table.concat({ '1', h[1], h[2], h[3], h[4] or h[1], h[5] or '0', clean(h[6]), clean(h[7]), clean(h[8]), clean(h[9]),
    clean(h[10]), text(d.browser), text(d.os), text(d.type), clean(h[12]) }, SEP)
end
`

// member "<pid>:<hash>" → pid, hash
const SPLIT = `
local function split(m)
  local sep = string.find(m, ':', 1, true)
  return string.sub(m, 1, sep - 1), string.sub(m, sep + 1)
end
-- at: the publish time by Redis' clock (ms), so listeners can measure propagation
local function revoked_message(pid, uid, reason)
  return cjson.encode({ publicId = pid, userId = uid, reason = reason, at = now })
end
`

/**
 * KEYS[1] session, KEYS[2] index, KEYS[3] credential version.
 * ARGV: sessionKeyPrefix, suffix, uid, role, pid, ip, ua, dev, idleMs, absMs, maxSessions,
 *       channel, absCapAt (epoch ms, 0 = none: an upgrade keeps a shorter remaining lifetime), email,
 *       credentialVersion (what the login read from Postgres), record tail (redis-record.ts; '' =
 *       write the hash form of earlier builds)
 * Returns { createdAt, idleExpiresAt, absoluteExpiresAt, evicted publicIds... }, or false when the
 * user's credentials were revoked after the login read them (nothing is written then).
 */
export const CREATE = NOW + RECORD + SPLIT + `
local current = tonumber(redis.call('GET', KEYS[3]) or '0')
if current > tonumber(ARGV[15]) then return false end
local prefix, suffix, uid, pid = ARGV[1], ARGV[2], ARGV[3], ARGV[5]
local idle = now + tonumber(ARGV[9])
local abs = now + tonumber(ARGV[10])
local cap = tonumber(ARGV[13])
if cap > 0 and cap < abs then abs = cap end
if abs < idle then idle = abs end

-- drop index members whose session expired, then make room for the new one
local live = {}
for _, m in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local _, h = split(m)
  if redis.call('EXISTS', prefix .. h) == 1 then
    table.insert(live, m)
  else
    redis.call('ZREM', KEYS[2], m)
  end
end
local evicted = {}
local excess = #live - (tonumber(ARGV[11]) - 1)
for i = 1, excess do
  local opid, h = split(live[i])
  redis.call('DEL', prefix .. h)
  redis.call('ZREM', KEYS[2], live[i])
  redis.call('PUBLISH', ARGV[12], revoked_message(opid, uid, 'evicted'))
  table.insert(evicted, opid)
end

if ARGV[16] ~= '' then
  redis.call('SET', KEYS[1], table.concat({ '1', now, idle, abs, now, ARGV[15], ARGV[16] }, SEP), 'PXAT', idle)
else
  redis.call('HSET', KEYS[1], 'uid', uid, 'em', ARGV[14], 'role', ARGV[4], 'pid', pid, 'cre', now, 'seen', now,
    'idle', idle, 'abs', abs, 'ip', ARGV[6], 'ua', ARGV[7], 'dev', ARGV[8], 'cv', ARGV[15])
  redis.call('PEXPIREAT', KEYS[1], idle)
end
redis.call('ZADD', KEYS[2], now, pid .. ':' .. suffix)
-- the index lives as long as its longest-lived session
local pttl = redis.call('PTTL', KEYS[2])
if pttl < 0 or pttl < abs - now then redis.call('PEXPIREAT', KEYS[2], abs) end

local out = { now, idle, abs }
for _, e in ipairs(evicted) do table.insert(out, e) end
return out
`

/**
 * KEYS[1] session. ARGV: idleMs, touchIntervalMs.
 * The sliding touch, run only when a plain read (see store.ts) found the session's last touch
 * older than the touch interval by the instance's clock. Redis' clock decides again here, so an
 * instance whose clock runs ahead costs one cheap call, never an extra write.
 * Returns false when the key is gone (revoked or expired since the read), else { seen, idle }.
 * It only ever rewrites a key that exists inside this same atomic call, so a session deleted by
 * a logout can never be re-saved by a request that was in flight.
 */
export const TOUCH = NOW + RECORD + `
local kind = redis.call('TYPE', KEYS[1]).ok
local due = tonumber(ARGV[2])
if kind == 'string' then
  local v = redis.call('GET', KEYS[1])
  local p = seps(v, 4)
  if not p then return false end
  local seen, idle, abs = tonumber(string.sub(v, p[1] + 1, p[2] - 1)), tonumber(string.sub(v, p[2] + 1, p[3] - 1)), tonumber(string.sub(v, p[3] + 1, p[4] - 1))
  if now - seen >= due then
    idle = now + tonumber(ARGV[1])
    if idle > abs then idle = abs end
    redis.call('SET', KEYS[1], string.sub(v, 1, p[1]) .. now .. SEP .. idle .. string.sub(v, p[3]), 'PXAT', idle)
    seen = now
  end
  return { seen, idle }
end
if kind ~= 'hash' then return false end
local v = redis.call('HMGET', KEYS[1], 'seen', 'idle', 'abs')
if not v[1] then return false end
local seen, idle, abs = tonumber(v[1]), tonumber(v[2]), tonumber(v[3])
if now - seen >= due then
  idle = now + tonumber(ARGV[1])
  if idle > abs then idle = abs end
  redis.call('HSET', KEYS[1], 'seen', now, 'idle', idle)
  redis.call('PEXPIREAT', KEYS[1], idle)
  seen = now
end
return { seen, idle }
`

/**
 * KEYS[1] session. The record of a session an earlier build stored as a hash, in the string
 * form, or false. Validation asks only when its MGET found no string (a rare miss).
 */
export const READ_HASH = RECORD + `
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then return false end
return record_of(KEYS[1]) or false
`

/**
 * KEYS[1] index, KEYS[2] credential version. ARGV: sessionKeyPrefix, uid, channel, reason,
 * publicId or '' (all), exceptPublicId or '', credentialVersion or '' (no bump), versionTtlMs.
 * Deletes the named session (or every one but the excepted), publishes each revocation,
 * and returns the public ids revoked. Sessions that already expired are pruned silently.
 * With a version (a user-wide revocation committed in Postgres): raises the version key (never
 * lowers it: two bumps may arrive out of order), moves the excepted session to it, and
 * publishes { userId, reason, at } as well, all in the same atomic call as the sweep.
 */
export const REVOKE = NOW + RECORD + SPLIT + `
local prefix, uid, channel, reason, only, except = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
if ARGV[7] ~= '' then
  local version = tonumber(ARGV[7])
  if tonumber(redis.call('GET', KEYS[2]) or '0') < version then
    redis.call('SET', KEYS[2], version, 'PX', tonumber(ARGV[8]))
  else
    redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[8]))
  end
  version = tonumber(redis.call('GET', KEYS[2]))
  if except ~= '' then
    for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
      local pid, h = split(m)
      if pid == except then
        local k = prefix .. h
        local kind = redis.call('TYPE', k).ok
        if kind == 'hash' then
          redis.call('HSET', k, 'cv', version)
        elseif kind == 'string' then
          local v = redis.call('GET', k)
          local p = seps(v, 6)
          if p then redis.call('SET', k, string.sub(v, 1, p[5]) .. version .. string.sub(v, p[6]), 'KEEPTTL') end
        end
      end
    end
  end
  redis.call('PUBLISH', channel, cjson.encode({ userId = uid, reason = reason, at = now }))
end
local revoked = {}
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local pid, h = split(m)
  if (only == '' or pid == only) and pid ~= except then
    redis.call('ZREM', KEYS[1], m)
    if redis.call('DEL', prefix .. h) == 1 then
      redis.call('PUBLISH', channel, revoked_message(pid, uid, reason))
      table.insert(revoked, pid)
    end
  end
end
return revoked
`

/**
 * KEYS[1] index. ARGV: sessionKeyPrefix.
 * Returns the live sessions, oldest first: { pid, record (string form) }, and prunes members
 * whose session has expired (Redis expires a record at its idle expiry, never after the absolute one).
 */
export const LIST = RECORD + SPLIT + `
local out = {}
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local pid, h = split(m)
  local v = record_of(ARGV[1] .. h)
  if v then
    table.insert(out, { pid, v })
  else
    redis.call('ZREM', KEYS[1], m)
  end
end
return out
`

/**
 * KEYS[1] session, KEYS[2] index. ARGV: suffix, uid, em, role, pid, cre, seen, idle, abs, ip, ua, dev, cv,
 * record tail (redis-record.ts; '' = the hash form of earlier builds).
 * Puts back a session that Postgres holds as live after Redis lost it (a restart, a flush). It
 * never overwrites a key that exists, so a session Redis still holds keeps its own, newer times.
 * Returns 1 when it wrote the session, 0 when it was there or already expired by Redis' clock.
 */
export const RESTORE = NOW + RECORD + `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local idle, abs = tonumber(ARGV[8]), tonumber(ARGV[9])
if idle <= now or abs <= now then return 0 end
if ARGV[14] ~= '' then
  redis.call('SET', KEYS[1], table.concat({ '1', ARGV[7], idle, abs, ARGV[6], ARGV[13], ARGV[14] }, SEP), 'PXAT', idle)
else
  redis.call('HSET', KEYS[1], 'uid', ARGV[2], 'em', ARGV[3], 'role', ARGV[4], 'pid', ARGV[5], 'cre', ARGV[6], 'seen', ARGV[7],
    'idle', idle, 'abs', abs, 'ip', ARGV[10], 'ua', ARGV[11], 'dev', ARGV[12], 'cv', ARGV[13])
  redis.call('PEXPIREAT', KEYS[1], idle)
end
redis.call('ZADD', KEYS[2], tonumber(ARGV[6]), ARGV[5] .. ':' .. ARGV[1])
local pttl = redis.call('PTTL', KEYS[2])
if pttl < 0 or pttl < abs - now then redis.call('PEXPIREAT', KEYS[2], abs) end
return 1
`

/**
 * KEYS[1] session, KEYS[2] index. ARGV: suffix, pid, channel, message.
 * Removes a session that Postgres holds as revoked (a revocation whose Redis step failed during an
 * outage): by its key, so it works even when the index lost the member. Publishes when it deleted.
 */
export const FORGET = `
redis.call('ZREM', KEYS[2], ARGV[2] .. ':' .. ARGV[1])
if redis.call('DEL', KEYS[1]) == 1 then
  redis.call('PUBLISH', ARGV[3], ARGV[4])
  return 1
end
return 0
`
