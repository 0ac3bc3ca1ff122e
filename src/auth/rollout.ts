// Who gets sessions. bucket(userId) is stable (murmur3 of "<flag>:<userId>", as Unleash
// does), so raising NEW_AUTH_PERCENTAGE only ever adds users to sessions: a user in at 10%
// is in at 50%. Rollback and NEW_AUTH_ENABLED=false stop new sessions without ending any.
import murmur from 'murmurhash3js'
import type { Config } from '../config/config.js'

const FLAG = 'hallpass-new-auth'

/** 0..99, the same on every instance and after every restart */
export function bucket (userId: string): number {
  return murmur.x86.hash32(`${FLAG}:${userId}`) % 100
}

/** the percentage actually in force: 0 whenever sessions are switched off */
export function effectivePercentage (rollout: Config['rollout']): number {
  return rollout.newAuthEnabled && !rollout.rollbackMode ? rollout.newAuthPercentage : 0
}

export function getsSession (rollout: Config['rollout'], userId: string): boolean {
  return bucket(userId) < effectivePercentage(rollout)
}
