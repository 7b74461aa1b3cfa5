// @ts-check
// Seeds a running ECR endpoint (the stand-in, in CI's test-action job) for one run of the action:
// creates repository demo/app and pushes one multi-arch image tagged sha-<first 7 of GITHUB_SHA>,
// the build tag of the built-in `environments` convention.
//
//   node __tests__/support/seed-standin.mjs http://127.0.0.1:4566

import { CreateRepositoryCommand, ECRClient } from '@aws-sdk/client-ecr'
import { multiArchImage, seedImage } from './images.mjs'

const REPOSITORY = 'demo/app'

/** @param {string[]} argv the endpoint URL @param {NodeJS.ProcessEnv} env GITHUB_SHA: the build's commit */
async function main(argv, env) {
  const endpoint = argv[0]
  if (!endpoint) throw new Error('usage: seed-standin.mjs <endpoint URL>')
  const sha = env.GITHUB_SHA ?? ''
  if (!/^[0-9a-f]{7,}$/i.test(sha)) {
    throw new Error(`GITHUB_SHA must be a commit SHA (at least 7 hex digits), got '${sha}'`)
  }
  const tag = `sha-${sha.slice(0, 7).toLowerCase()}`

  const client = new ECRClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' }
  })
  try {
    await client.send(new CreateRepositoryCommand({ repositoryName: REPOSITORY }))
    const digest = await seedImage(client, REPOSITORY, multiArchImage(tag), [tag])
    process.stdout.write(`${REPOSITORY}:${tag} -> ${digest}\n`)
  } finally {
    client.destroy()
  }
}

main(process.argv.slice(2), process.env).catch((error) => {
  process.stderr.write(`seed-standin: ${error instanceof Error ? error.message : error}\n`)
  process.exit(1)
})
