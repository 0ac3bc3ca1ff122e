// Reads a file from sql/, which sits at the project root in the source tree and is copied
// beside the compiled output by `npm run build`.
import { readFileSync, existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const candidates = [
  fileURLToPath(new URL('../../sql/', import.meta.url)), // src/infra → sql/, dist/src/infra → dist/sql/
  fileURLToPath(new URL('../../../sql/', import.meta.url)) // dist/src/infra → sql/ at the root
]

export function readSqlFile (name: string): string {
  for (const dir of candidates) {
    if (existsSync(dir + name)) return readFileSync(dir + name, 'utf8')
  }
  throw new Error(`sql/${name} not found`)
}
