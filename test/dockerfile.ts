// Reads the Dockerfile the way the image build would, for the tests that check the image without a
// Docker engine: its stages, their COPY and RUN lines in order, ENV, USER, EXPOSE and the CMD.
// Also lays a stage's files out in a plain folder (materialise), following each COPY as written,
// so the container-image check runs exactly what the final stage copies and nothing else.
import { cpSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { join, posix, relative } from 'node:path'

export interface Copy { kind: 'COPY'; from: string | null; sources: string[]; dest: string }
export interface Run { kind: 'RUN'; command: string }
export type Step = Copy | Run

export interface Stage {
  name: string | null
  base: string
  workdir: string
  env: Record<string, string>
  user: string | null
  expose: number[]
  cmd: string[] | null
  steps: Step[]
}

export interface Dockerfile { args: Record<string, string>; stages: Stage[] }

/** joins continuation lines and drops comments and blank lines */
function instructions (text: string): string[] {
  const out: string[] = []
  let pending = ''
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (!pending && (line === '' || line.startsWith('#'))) continue
    if (line.endsWith('\\')) { pending += line.slice(0, -1) + ' '; continue }
    out.push((pending + line).trim())
    pending = ''
  }
  return out
}

function parseDockerfile (text: string): Dockerfile {
  const args: Record<string, string> = {}
  const stages: Stage[] = []
  const expand = (s: string): string => s.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => args[a ?? b] ?? '')
  for (const line of instructions(text)) {
    const [, keyword = '', rest = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? []
    const word = keyword.toUpperCase()
    const stage = stages.at(-1)
    if (word === 'ARG' && !stage) {
      const [name, value = ''] = rest.split('=')
      args[name!] = value
      continue
    }
    if (word === 'FROM') {
      const [base, as, name] = rest.split(/\s+/)
      stages.push({ name: as?.toUpperCase() === 'AS' ? name! : null, base: expand(base!), workdir: '/', env: {}, user: null, expose: [], cmd: null, steps: [] })
      continue
    }
    if (!stage) throw new Error(`Dockerfile: ${word} before FROM`)
    if (word === 'WORKDIR') stage.workdir = posix.resolve(stage.workdir, rest)
    else if (word === 'ENV') {
      for (const pair of rest.split(/\s+/)) {
        const [name, value = ''] = pair.split('=')
        stage.env[name!] = value
      }
    } else if (word === 'USER') stage.user = rest
    else if (word === 'EXPOSE') stage.expose.push(...rest.split(/\s+/).map(p => Number(p.split('/')[0])))
    else if (word === 'CMD') {
      // only the exec form: a shell-form CMD would run under /bin/sh, which does not pass SIGTERM on
      stage.cmd = JSON.parse(rest) as string[]
    } else if (word === 'RUN') stage.steps.push({ kind: 'RUN', command: rest })
    else if (word === 'COPY') {
      const parts = rest.split(/\s+/)
      const flags = parts.filter(p => p.startsWith('--'))
      const paths = parts.filter(p => !p.startsWith('--'))
      const from = flags.find(f => f.startsWith('--from='))?.slice('--from='.length) ?? null
      stage.steps.push({ kind: 'COPY', from, sources: paths.slice(0, -1), dest: paths.at(-1)! })
    } else throw new Error(`Dockerfile: ${word} is not understood by this check; teach test/dockerfile.ts`)
  }
  return { args, stages }
}

export function readDockerfile (root: string): Dockerfile {
  return parseDockerfile(readFileSync(join(root, 'Dockerfile'), 'utf8'))
}

/** .dockerignore as path prefixes and simple globs (*): what the build context leaves out */
function dockerignore (root: string): (path: string) => boolean {
  const file = join(root, '.dockerignore')
  const patterns = existsSync(file) ? instructions(readFileSync(file, 'utf8')) : []
  const regexps = patterns.map(p => new RegExp('^' + p.replace(/^\/+|\/+$/g, '').replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*') + '(/.*)?$'))
  return path => regexps.some(r => r.test(path))
}

export interface MaterialiseOptions {
  /** the build context (the repository) */
  context: string
  /** an empty folder; each stage gets its own folder inside it */
  into: string
  /**
   * A stage's full `npm ci` (every dependency, for the build) is not repeated: the repository's
   * node_modules, installed by npm ci from the same lockfile, is linked instead. Production
   * installs (--omit=dev) run for real.
   */
  nodeModules: string
  env: NodeJS.ProcessEnv
  log?: (line: string) => void
}

/**
 * Lays out the stage (and first the stages it copies from) in plain folders, one per stage, each
 * standing for that stage's filesystem root; returns the stage's root folder.
 */
export function materialise (file: Dockerfile, stageIndex: number, opts: MaterialiseOptions, done = new Map<number, string>()): string {
  const known = done.get(stageIndex)
  if (known) return known
  const stage = file.stages[stageIndex]!
  const root = join(opts.into, `stage-${stageIndex}${stage.name ? '-' + stage.name : ''}`)
  const workdir = join(root, stage.workdir)
  mkdirSync(workdir, { recursive: true })
  const ignored = dockerignore(opts.context)
  for (const step of stage.steps) {
    if (step.kind === 'RUN') {
      const fullInstall = /^npm ci\b/.test(step.command) && !/--omit[= ]dev/.test(step.command)
      opts.log?.(`${stage.name ?? 'final'}: RUN ${step.command}${fullInstall ? ' (linked: the repository\'s own install)' : ''}`)
      if (fullInstall) symlinkSync(opts.nodeModules, join(workdir, 'node_modules'), 'dir')
      else execFileSync('sh', ['-c', step.command], { cwd: workdir, env: { ...opts.env, ...stage.env }, stdio: 'pipe' })
      continue
    }
    const dest = join(root, posix.resolve(stage.workdir, step.dest))
    for (const source of step.sources) {
      let from: string
      if (step.from === null) {
        const path = posix.normalize(source).replace(/\/+$/, '')
        if (ignored(path)) throw new Error(`COPY ${source}: .dockerignore leaves it out of the build context`)
        from = join(opts.context, path)
      } else {
        const fromIndex = file.stages.findIndex(s => s.name === step.from)
        if (fromIndex < 0) throw new Error(`COPY --from=${step.from}: no such stage`)
        from = join(materialise(file, fromIndex, opts, done), posix.resolve(file.stages[fromIndex]!.workdir, source))
      }
      if (!existsSync(from)) throw new Error(`COPY ${source}: not found`)
      // a directory's contents go into dest (as Docker does); a file goes into dest/ when dest ends with /
      const target = step.dest.endsWith('/') && !statSync(from).isDirectory() ? join(dest, posix.basename(source)) : dest
      opts.log?.(`${stage.name ?? 'final'}: COPY ${step.from ? `--from=${step.from} ` : ''}${source} ${step.dest}`)
      cpSync(from, target, {
        recursive: true,
        verbatimSymlinks: true, // node_modules/.bin links are relative and stay valid
        filter: src => step.from !== null || !ignored(relative(opts.context, src).split('\\').join('/'))
      })
    }
  }
  done.set(stageIndex, root)
  return root
}
