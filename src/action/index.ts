import * as core from '@actions/core'
import { POST_STATE, run } from './main.js'
import { post } from './post.js'

// action.yml names this entry for both the main step and the post step; the main step's state tells them apart.
void (core.getState(POST_STATE) === 'true' ? post() : run())
