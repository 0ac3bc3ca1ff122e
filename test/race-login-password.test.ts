// A login in flight on one instance while another runs a password (race-helper.ts says how).
import t from 'tap'
import { loginRace } from './race-helper.js'

for (const mode of ['session', 'legacy'] as const) {
  t.test(`a ${mode} login in flight does not survive password`, t => loginRace(t, mode, 'password'))
}
