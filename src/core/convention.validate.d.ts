import type { ValidateFunction } from 'ajv'

/** convention.schema.json's validator, compiled ahead of time (scripts/schema.mjs). */
export declare const validate: ValidateFunction
