import pkg from '../../package.json' with { type: 'json' }

/** The version of ecr-promote, from package.json (bundled): what the CLI's --version prints and the action reports. */
export const VERSION: string = pkg.version
