import * as core from '@actions/core'
import type { InputSource } from '../core/inputs.js'

/** The action's inputs: INPUT_* as the runner sets them, action.yml's defaults included. */
export const RUNNER_INPUTS: InputSource = {
  get: (name) => core.getInput(name),
  list: (name) => core.getMultilineInput(name)
}
