// npm run bench:readme: copies the run line and the Targets section of bench/results/latest.md
// (the last full run) into README.md, between its bench markers, so the Performance section
// always shows the latest measured table without hand copying.
import { readFile, writeFile } from 'node:fs/promises'

const README = new URL('../README.md', import.meta.url)
const LATEST = new URL('./results/latest.md', import.meta.url)
const START = '<!-- bench:targets:start (npm run bench:readme) -->'
const END = '<!-- bench:targets:end -->'

const latest = await readFile(LATEST, 'utf8')
const lines = latest.split('\n')
const runLine = lines.find(l => l.startsWith('`npm run bench'))
const from = lines.indexOf('## Targets')
const to = lines.findIndex((l, i) => i > from && l.startsWith('## '))
if (!runLine || from < 0 || to < 0) {
  console.error('bench:readme: bench/results/latest.md has no run line or Targets section; run `npm run bench` first')
  process.exit(1)
}
if (!latest.startsWith('# hallpass bench — full run')) {
  console.error('bench:readme: bench/results/latest.md is not a full run')
  process.exit(1)
}
const block = ['Latest full run: ' + runLine, '', ...lines.slice(from + 1, to)].join('\n').trim()
const readme = await readFile(README, 'utf8')
const a = readme.indexOf(START)
const b = readme.indexOf(END)
if (a < 0 || b < a) {
  console.error(`bench:readme: README.md has no ${START} … ${END} markers`)
  process.exit(1)
}
await writeFile(README, readme.slice(0, a + START.length) + '\n' + block + '\n' + readme.slice(b))
console.error('bench:readme: README.md Performance table updated from bench/results/latest.md')
