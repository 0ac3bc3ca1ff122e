// A session login in flight on one instance while another revokes (race-helper.ts says how).
import t from 'tap'
import { loginRace } from './race-helper.js'

for (const kind of ['password', 'disable', 'logout-all'] as const) {
  t.test(`a session login in flight does not survive ${kind}`, t => loginRace(t, 'session', kind))
}
