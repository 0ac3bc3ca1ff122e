// A legacy client rotating its refresh token on one instance while another revokes.
import t from 'tap'
import { refreshRace } from './race-helper.js'

t.test('a refresh family that is rotating does not survive a password change', t => refreshRace(t, 'password'))
t.test('a refresh family that is rotating does not survive logout-all', t => refreshRace(t, 'logout-all'))
