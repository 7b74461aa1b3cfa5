/**
 * Three projects, one per folder of __tests__ (CONTRIBUTING.md, "Tests"): `unit` (the pure core
 * table-driven, the glue in-process with fakes; every suite outside e2e/ and standin/, so none is
 * left out), `standin` (the ECR stand-in's and the GitHub fake's own tests, moto's deviations) and
 * `e2e` (the bundle run as a runner runs it). Only standin and e2e start moto_server; e2e first
 * bundles dist/ when it is stale (scripts/bundle.mjs). `npm run test:unit` runs unit alone.
 */
import { availableParallelism } from 'node:os'

const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.test.json' }]
  }
}
const moto = { globalTeardown: './__tests__/support/global-teardown.mjs' }

/** @type {import('jest').Config} */
export default {
  testTimeout: 30000,
  // The end-to-end suites mostly wait (latency, quotas, timeouts, GitHub's signal timing), so a
  // worker more than there are cores finishes sooner; jest's default is one fewer.
  maxWorkers: availableParallelism() + 1,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/__tests__/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/__tests__/(e2e|standin)/']
    },
    {
      ...common,
      ...moto,
      displayName: 'standin',
      testMatch: ['<rootDir>/__tests__/standin/**/*.test.ts'],
      globalSetup: './__tests__/support/global-setup.mjs'
    },
    {
      ...common,
      ...moto,
      displayName: 'e2e',
      testMatch: ['<rootDir>/__tests__/e2e/**/*.test.ts'],
      globalSetup: './__tests__/e2e/global-setup.mjs'
    }
  ]
}
