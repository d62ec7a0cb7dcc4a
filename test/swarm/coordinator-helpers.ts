import { loadCatalog } from '../../src/node/catalog-file.js';
import {
  type Command,
  type CommandResult,
  CoordinatorStateMachine,
  encodeCommand,
} from '../../src/swarm/index.js';

export const catalog = loadCatalog();

/** A coordinator state machine plus a log counter, for scripted tests. */
export class Harness {
  readonly sm = new CoordinatorStateMachine(catalog);
  index = 0;
  readonly log: Uint8Array[] = [];

  run(cmd: Command): CommandResult {
    const bytes = encodeCommand(cmd);
    this.log.push(bytes);
    return this.sm.apply(++this.index, bytes);
  }

  raw(bytes: Uint8Array): CommandResult {
    this.log.push(bytes);
    return this.sm.apply(++this.index, bytes);
  }
}

export const IFLB = 'FAJ_121_3009';
export const CTIFH = 'FAJ_121_0877';
export const CTIFSC = 'FAJ_121_0797';
export const RRP = 'FAJ_121_4571';
export const CM_DRX = 'FAJ_121_4963';
export const CA = 'FAJ_121_3046';
