// Who gets sessions. bucket(userId) is stable (murmur3 of "<flag>:<userId>", as Unleash
// does), so raising NEW_AUTH_PERCENTAGE only ever adds users to sessions: a user in at 10%
// is in at 50%. Rollback and NEW_AUTH_ENABLED=false stop new sessions without ending any.
// With legacy JWTs retired (LEGACY_AUTH_ENABLED=false) there is nothing else to give: every
// login gets a session, whatever the percentage or an override says (the config refuses
// retirement together with rollback or sessions off).
import murmur from 'murmurhash3js'
import type { Config } from '../config/config.js'

const FLAG = 'hallpass-new-auth'

/** 0..99, the same on every instance and after every restart */
export function bucket (userId: string): number {
  return murmur.x86.hash32(`${FLAG}:${userId}`) % 100
}

/**
 * the percentage actually in force: 0 whenever sessions are switched off; a rollback override
 * (`cap`, see rollout-override.ts) can only lower it
 */
export function effectivePercentage (rollout: Config['rollout'], cap: number | null = null): number {
  if (!rollout.legacyAuthEnabled) return 100
  const configured = rollout.newAuthEnabled && !rollout.rollbackMode ? rollout.newAuthPercentage : 0
  return cap === null ? configured : Math.min(configured, cap)
}

export function getsSession (rollout: Config['rollout'], userId: string, cap: number | null = null): boolean {
  return bucket(userId) < effectivePercentage(rollout, cap)
}
