import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  fileJournal,
  leftToUndo,
  putBack,
  readJournal,
  type JournalEntry,
  type Undo
} from '../../../src/run/journal.js'
import { fakeDigests } from '../../support/builders.js'
import { memoryRegistry } from '../../support/memory-registry.js'

const [run, before, other] = fakeDigests('b', 'c', 'd')
const registryNote: JournalEntry = {
  note: 'registry',
  registryId: '123456789012',
  region: 'eu-west-1'
}
const write = (tag: string, pointer: boolean, was: string | null = null): JournalEntry => ({
  note: 'write',
  repository: 'app',
  tag,
  pointer,
  before: was,
  placed: run
})
const undo = (tag: string, pointer: boolean, target: string | null): Undo => ({
  repository: 'app',
  tag,
  pointer,
  placed: run,
  target
})

describe('leftToUndo', () => {
  it.each<[string, JournalEntry[], Undo[]]>([
    ['nothing written', [registryNote], []],
    [
      'every write, back where it was before, pointers first',
      [registryNote, write('v1.2.0', false), write('production', true, before)],
      [undo('production', true, before), undo('v1.2.0', false, null)]
    ],
    [
      'a write sent twice counts once, from where it was first',
      [registryNote, write('production', true, before), { ...write('production', true, run) }],
      [undo('production', true, before)]
    ],
    [
      'the target the undo decided, not before (a release made meanwhile)',
      [
        registryNote,
        write('production', true, before),
        { note: 'target', ...undo('production', true, other) }
      ],
      [undo('production', true, other)]
    ],
    [
      'a pointer another run moved onto the run image, which the undo took on',
      [registryNote, { note: 'target', ...undo('latest', true, before) }],
      [undo('latest', true, before)]
    ],
    [
      'what is settled is left out',
      [
        registryNote,
        write('v1.2.0', false),
        write('production', true, before),
        { note: 'settled', repository: 'app', tag: 'production' }
      ],
      [undo('v1.2.0', false, null)]
    ],
    [
      'nothing once the run finished',
      [registryNote, write('v1.2.0', false), { note: 'finished' }],
      []
    ]
  ])('%s', (_name, entries, undos) => {
    expect(leftToUndo(entries)).toEqual({
      registry: { registryId: '123456789012', region: 'eu-west-1' },
      undos
    })
  })

  it('gives an undo the target registry a run wrote in, and the role it assumed there, from the file', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ecr-promote-journal-')), 'journal')
    const target = {
      registryId: '210987654321',
      region: 'us-east-1',
      host: '210987654321.dkr.ecr.us-east-1.amazonaws.com',
      roleArn: 'arn:aws:iam::210987654321:role/promoter',
      roleRegion: 'eu-west-1'
    }
    const journal = fileJournal(path, 'ecr-promote undo')
    journal.note({ note: 'registry', ...target })
    journal.note(write('production', true, before))
    expect(leftToUndo(readJournal(path))).toEqual({
      registry: target,
      undos: [undo('production', true, before)]
    })
  })
})

describe('putBack', () => {
  /** App's tags, each on the image of that digest; `failing` tags refuse writes. */
  const holding = (tags: Record<string, string>, ...failing: string[]) =>
    memoryRegistry({
      tags: { app: Object.fromEntries(Object.entries(tags).map(([tag, on]) => [tag, image(on)])) },
      images: [run, before, other].map(image),
      faults: failing.map((ref) => ({ operation: 'put', ref, kind: 'failed', times: Infinity }))
    })
  const image = (digest: string) => ({ digest, mediaType: 'm', body: digest })
  const noJournal = { note: () => {}, resume: '' }

  it('puts back only what is still on the run image, pointers first, and journals each as settled', async () => {
    const registry = holding({ 'v1.2.0': run, production: run, latest: other, canary: before })
    const settled: string[] = []
    const outcomes = await putBack(
      registry,
      [
        undo('v1.2.0', false, null),
        undo('production', true, before),
        undo('latest', true, before),
        undo('canary', true, before)
      ],
      async () => {},
      { note: (entry) => void settled.push('tag' in entry ? entry.tag : entry.note), resume: '' }
    )
    // Each tag is read just before it is written, pointers first.
    expect(registry.log).toEqual([
      'read app production',
      'read app latest',
      'read app canary',
      'read app c',
      'put app:production=c',
      'read app v1.2.0',
      'remove app:v1.2.0'
    ])
    expect(outcomes.map(({ undo: { tag }, result, now }) => [tag, result, now])).toEqual([
      ['production', 'put back', before],
      ['latest', 'moved by another writer', other],
      ['canary', 'already back', before],
      ['v1.2.0', 'put back', null]
    ])
    expect(settled.sort()).toEqual(['canary', 'latest', 'production', 'v1.2.0'])
  })

  it('reads each tag again when its turn comes: one another writer moved meanwhile is theirs', async () => {
    const registry = holding({ production: run })
    const outcomes = await putBack(
      registry,
      [undo('production', true, before)],
      // While the undo waits for its turn, another release moves production.
      async () => registry.set('app', { production: image(other) }),
      noJournal
    )
    expect(outcomes.map(({ result, now }) => [result, now])).toEqual([
      ['moved by another writer', other]
    ])
    expect(registry.repositories.app?.production).toBe(other)
  })

  it('leaves a repository its version tags while its pointer could not be put back, and both unsettled for another try', async () => {
    const registry = holding({ production: run, 'v1.2.0': run }, 'production')
    const settled: string[] = []
    const outcomes = await putBack(
      registry,
      [undo('v1.2.0', false, null), undo('production', true, before)],
      async () => {},
      { note: (entry) => void settled.push(entry.note), resume: '' }
    )
    expect(
      outcomes.map(({ undo: { tag }, result, now, error }) => [tag, result, now, error])
    ).toEqual([
      ['production', 'failed', run, new Error('ecr:PutImage on app failed')],
      ['v1.2.0', 'failed', run, new Error('left on its image while production is not put back')]
    ])
    expect(registry.repositories.app).toEqual({ production: run, 'v1.2.0': run })
    expect(settled).toEqual([])
  })
})
