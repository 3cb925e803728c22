import type { Command } from '../command.js'
import { aliasCommand, canaryCommand, historyCommand, promoteCommand, rollbackCommand } from './aliases.js'
import { uploadCommand, versionsCommand } from './artifacts.js'
import { evaluateCommand, evaluationCommand, evaluationsCommand } from './evaluations.js'
import { modelCommand, modelsCommand } from './models.js'
import { predictCommand } from './predict.js'
import { releaseCommand, releasesCommand } from './releases.js'
import { rolloutCommand } from './rollouts.js'
import { tokenCommand, whoamiCommand } from './tokens.js'

/** Every command, in the order `modelpin --help` lists them. */

export const COMMANDS: ReadonlyArray<Command<any>> = [
  modelsCommand, modelCommand,
  versionsCommand, uploadCommand,
  releaseCommand, releasesCommand,
  promoteCommand, rollbackCommand, historyCommand, aliasCommand, canaryCommand, rolloutCommand,
  predictCommand,
  evaluateCommand, evaluationsCommand, evaluationCommand,
  tokenCommand, whoamiCommand,
]
