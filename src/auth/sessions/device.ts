// What a person sees in their device list: browser family, OS and device type, from the
// User-Agent. ua-parser-js 1.x (MIT; 2.x is AGPL). Parsed at login and on anomaly checks,
// never on the plain hot path.
import { UAParser } from 'ua-parser-js'
import type { Device } from './types.js'

export function describeDevice (userAgent: string): Device {
  if (!userAgent) return { browser: 'unknown', os: 'unknown', type: 'unknown' }
  const r = new UAParser(userAgent.slice(0, 512)).getResult()
  return {
    browser: r.browser.name ?? 'unknown',
    os: r.os.name ?? 'unknown',
    // ua-parser leaves desktop browsers without a type
    type: r.device.type ?? (r.browser.name ? 'desktop' : 'unknown')
  }
}

export function browserFamily (userAgent: string): string {
  return describeDevice(userAgent).browser
}
