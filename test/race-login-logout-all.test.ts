// A login in flight on one instance while another runs a logout-all (race-helper.ts says how).
import t from 'tap'
import { loginRace } from './race-helper.js'

for (const mode of ['session', 'legacy'] as const) {
  t.test(`a ${mode} login in flight does not survive logout-all`, t => loginRace(t, mode, 'logout-all'))
}
