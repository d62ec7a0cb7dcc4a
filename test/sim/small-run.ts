import {
  campaignRunConfig,
  campaignSeed,
  type MdpName,
  type RunConfig,
} from '../../src/sim/federation/index.js';

/** The campaign's run, small: 7 honest agents, 600 episodes, the first seed of root 1. */
export const smallRun = (mdp: MdpName, extra: Partial<RunConfig> = {}): RunConfig =>
  campaignRunConfig(mdp, { agents: 7, seed: campaignSeed(1, 0), episodes: 600, ...extra });
