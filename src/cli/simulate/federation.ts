import type { Command } from 'commander';
import { ElexError } from '../../core/index.js';
import { DEFAULT_RULE, RULE_NAMES, type RuleName } from '../../learning/index.js';
import {
  ATTACK_NAMES,
  type AttackName,
  BEHAVIOURS,
  MDP_NAMES,
  type MdpName,
  runCampaign,
} from '../../sim/federation/index.js';
import { choiceOption, floatOption, intOption, listOption, oneOrAllOption } from '../options.js';
import { printJson } from '../output.js';
import { progress } from '../progress.js';

/**
 * `elex simulate federation`: the Byzantine evaluation of federated Q-learning on benchmark MDPs with exact
 * Q*. Same options and seed → byte-identical JSON (wall time only under `perf`).
 */
export function register(simulate: Command): void {
  simulate
    .command('federation')
    .description('Byzantine evaluation of federated Q-learning: attacks × merge rules × seeds on an MDP')
    .option('--agents <n>', 'agents in the federation', intOption(2, 200), 10)
    .option('--byzantine <n>', 'Byzantine agents among them', intOption(0, 199), 3)
    .option(
      '--attack <name>',
      `'all' or a comma-separated list of ${ATTACK_NAMES.join(', ')}`,
      listOption(ATTACK_NAMES),
      'all',
    )
    .option(
      '--rule <name>',
      `'all' or a comma-separated list of ${RULE_NAMES.join(', ')}`,
      listOption(RULE_NAMES),
      'all',
    )
    .option(
      '--mdp <name>',
      `'all' or one of ${MDP_NAMES.join(', ')}`,
      oneOrAllOption(MDP_NAMES),
      'frozen-lake',
    )
    .option('--seeds <k>', 'seeds per configuration', intOption(1, 1000), 10)
    .option('--seed <s>', 'root seed', intOption(0, 2 ** 31 - 1), 1)
    .option('--episodes <n>', 'episodes per agent (default per MDP)', intOption(10, 1_000_000))
    .option(
      '--behaviour <name>',
      `how agents act (default per MDP: random off-policy, others epsilon-greedy): ${BEHAVIOURS.join(', ')}`,
      choiceOption(BEHAVIOURS),
    )
    .option(
      '--shrink',
      "shrink each round's decisions towards the consensus (James-Stein; robust rules; not default, see docs/federation-experiments.md)",
    )
    .option(
      '--server-step <H>',
      "scale each robust decision's move by min(1, a_n/alpha), a_n = H/(H + (1-gamma)*n), n the entry's kept visits (rescaled linear step; not default, see docs/federation-experiments.md)",
      floatOption(0.001, 1e6),
    )
    .option(
      '--polyak <rate>',
      "measure rho on a Polyak average of each honest agent's table (q-bar += rate*(q - q-bar) per round; learning and acting unchanged; not default, see docs/federation-experiments.md)",
      floatOption(0.0001, 1),
    )
    .option(
      '--td-slack <steps>',
      "TD steps the reachability check allows beyond a report's fresh visits (default 0, as the product; see docs/federation-experiments.md)",
      intOption(0, 10),
    )
    .option(
      '--td-window <aggregates>',
      "aggregates a report may be learned from: it must be reachable from its entry's value in one of the last N (default 3, as the product; --td-window 1 --td-slack 1 is the check before the window)",
      intOption(1, 50),
    )
    .option('--json', 'print the report as JSON (the default)')
    .option('--quiet', 'no progress on stderr')
    .action(
      (o: {
        agents: number;
        byzantine: number;
        attack: string;
        rule: string;
        mdp: string;
        seeds: number;
        seed: number;
        episodes?: number;
        behaviour?: (typeof BEHAVIOURS)[number];
        shrink?: boolean;
        serverStep?: number;
        polyak?: number;
        tdSlack?: number;
        tdWindow?: number;
        quiet?: boolean;
      }) => {
        if (o.byzantine >= o.agents)
          throw new ElexError(
            'E_USAGE',
            `--byzantine (${o.byzantine}) must be smaller than --agents (${o.agents})`,
          );
        // 'all', one name, or a comma-separated list (each name checked when the option was parsed).
        const attacks = (o.attack === 'all' ? [...ATTACK_NAMES] : o.attack.split(',')) as AttackName[];
        const rules = (o.rule === 'all' ? [...RULE_NAMES] : o.rule.split(',')) as RuleName[];
        const mdps = (o.mdp === 'all' ? [...MDP_NAMES] : [o.mdp]) as MdpName[];
        const t0 = performance.now();
        const reports = mdps.map((mdp) => {
          const bar = progress(`simulate federation ${mdp}`, o.quiet);
          const r = runCampaign(
            {
              mdp,
              agents: o.agents,
              byzantine: o.byzantine,
              attacks,
              rules,
              seeds: o.seeds,
              seed: o.seed,
              episodes: o.episodes,
              behaviour: o.behaviour,
              shrink: o.shrink === true,
              serverStep: o.serverStep,
              polyak: o.polyak,
              tdSlack: o.tdSlack,
              tdWindow: o.tdWindow,
            },
            (done, total) => bar.update(done, total, 'runs'),
          );
          bar.stop();
          return r;
        });
        const perf = { wall_ms: Math.round(performance.now() - t0) };
        printJson(
          reports.length === 1 ? { ...reports[0], perf } : { default_rule: DEFAULT_RULE, reports, perf },
        );
      },
    );
}
