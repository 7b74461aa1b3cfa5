import { toConvention, type Convention, type ConventionDocument } from './convention.js'
import { messageOf } from './model.js'

/** `../shared/seeds/container-registry-strategy.md`: sha-<7 hex> builds, latest, deploy pointers, v<semver>. */
const ENVIRONMENTS: ConventionDocument = {
  name: 'environments',
  'build-tag': 'sha-{sha7}',
  'version-tag': 'v{version}',
  rollback: 'production',
  'withdrawn-tag': 'withdrawn-{version}',
  push: ['latest'],
  release: [
    { tag: 'v{version}', kind: 'version' },
    { tag: 'production', kind: 'forward' }
  ],
  prerelease: [{ tag: 'v{version}', kind: 'version' }],
  promote: {
    staging: ['staging'],
    canary: ['canary'],
    production: [
      { tag: 'production', kind: 'forward' },
      { tag: 'v{version}', kind: 'version', optional: true }
    ]
  },
  cleanup: {
    protect: ['production', 'staging', 'canary', 'latest'],
    'protect-releases': true,
    'keep-builds': 20,
    'expire-untagged-after-days': 7
  },
  gates: { guard: ['production'], tested: { production: 'staging' } },
  deployments: { production: 'production', staging: 'staging', canary: 'canary' }
}

/** `../shared/seeds/docker-registry-and-image-versioning.md`: SemVer without v, edge, rc builds, stable, latest. */
const CHANNELS: ConventionDocument = {
  name: 'channels',
  'build-tag': '{service}-{branch}-{sha7}',
  'version-tag': '{version}',
  rollback: 'stable',
  'withdrawn-tag': 'withdrawn-{version}',
  push: ['edge'],
  release: [
    { tag: '{version}', kind: 'version' },
    { tag: 'stable', kind: 'forward' },
    { tag: 'latest', kind: 'highest' }
  ],
  prerelease: [{ tag: '{version}', kind: 'version' }],
  promote: { staging: [{ tag: '{version}-rc.{build}', kind: 'version' }] },
  cleanup: {
    protect: ['stable', 'latest', 'edge'],
    'protect-releases': true,
    'expire-after-days': 90,
    'expire-untagged-after-days': 90,
    'keep-minor-versions': 5
  },
  gates: { guard: ['stable'], tested: { stable: '{version}-rc.*' } },
  deployments: { stable: 'production' }
}

/** The pointers that say what runs in production: the rollback pointer, the guarded ones, and those deployed to `production`. */
const productionPointers = (convention: Convention): string[] => [
  ...new Set([
    ...(convention.rollbackPointer ? [convention.rollbackPointer] : []),
    ...convention.gates.guard,
    ...Object.keys(convention.deployments).filter(
      (tag) => convention.deployments[tag] === 'production'
    )
  ])
]

/** Whether these plans write a production pointer: a person at a terminal is asked first. */
export const writesProduction = (
  convention: Convention,
  plans: readonly { steps: readonly { tag: string; write: boolean }[] }[]
): boolean =>
  plans.some(({ steps }) =>
    steps.some(({ tag, write }) => write && productionPointers(convention).includes(tag))
  )

/** The built-ins as documents, as a team would write them in a convention file. */
export const BUILT_IN_CONVENTIONS: Readonly<Record<string, ConventionDocument>> = {
  environments: ENVIRONMENTS,
  channels: CHANNELS
}

/** `environments`, `channels`, or a path to a YAML or JSON convention file. */
export async function loadConvention(
  spec: string,
  readText: (path: string) => Promise<string>
): Promise<Convention> {
  if (Object.hasOwn(BUILT_IN_CONVENTIONS, spec)) return builtInConvention(spec)
  if (!/[/\\]|\.(ya?ml|json)$/.test(spec)) {
    throw new Error(
      `unknown convention '${spec}': use ${Object.keys(BUILT_IN_CONVENTIONS).join(' or ')}, or the path of a convention file such as .github/ecr-convention.yml`
    )
  }
  let text: string
  try {
    text = await readText(spec)
  } catch (error) {
    throw new Error(`cannot read convention file ${spec}: ${messageOf(error)}`, {
      cause: error
    })
  }
  // Only a convention file needs the YAML parser and the schema validator: a run with a built-in
  // convention never loads them (a chunk of its own in the bundle).
  const { parseConvention } = await import('./convention-file.js')
  return parseConvention(text, spec)
}

/** A built-in convention; a test checks each against the schema, so a run need not. */
export const builtInConvention = (name: string): Convention =>
  toConvention(BUILT_IN_CONVENTIONS[name] as ConventionDocument, name)
