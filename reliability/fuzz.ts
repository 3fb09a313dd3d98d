/**
 * `npm run fuzz` (`--quick` for the CI-sized run; `--count=N`, `--seed=S`): sends at least 1,000,000
 * random and mutated `Cookie` headers (20,000 with --quick) to the node and Express adapters, with a
 * store-backed and a cookie-only manager each, and checks: no crash, no 5xx, no accepted forgery, no
 * store read for a malformed token. Saves the figures to .data/reliability/ and exits 1 on any
 * finding. Bounded: aborts after 30 minutes (3 with --quick).
 */
import { deadline } from '../tools/cleanup.js';
import { flags, markdownTable, saveResult, say } from './lib/cli.js';
import { type FuzzResult, runFuzz } from './lib/fuzz-run.js';

const options = flags();
deadline(options.quick ? 3 * 60_000 : 30 * 60_000, 'fuzz');
const total = options.number('count', options.quick ? 20_000 : 1_000_000);
const seed = options.number('seed', 20_260_101);
say(`fuzz: ${total} requests, seed ${seed}`);
const result: FuzzResult = await runFuzz({
  total,
  connections: 16,
  seed,
  progress: (sent) => say(`  ${sent} sent`),
});

say(
  markdownTable(
    ['target', 'requests', 'statuses', 'genuine accepted', 'accepted (reference verdicts)', 'store reads'],
    Object.entries(result.targets).map(([name, t]) => [
      name,
      t.sent,
      JSON.stringify(t.byStatus),
      `${t.genuineAccepted}/${t.genuineSent}`,
      JSON.stringify(t.accepted),
      JSON.stringify(t.storeReads),
    ]),
  ),
);
const findings = {
  crashes: result.crashes,
  noResponse: result.noResponse,
  serverErrors: result.serverErrors,
  forged: result.forged,
  storeReadsForMalformed: result.storeReadsForMalformed,
  lenientWhitespace: result.lenientWhitespace,
  nonCanonical: result.nonCanonical,
};
say(`\n${result.total} requests in ${(result.durationMs / 1000).toFixed(1)} s; ${JSON.stringify(findings)}`);
for (const [kind, list] of Object.entries(result.examples)) {
  say(`\n${kind}:`);
  for (const line of list) say(`  ${line}`);
}
const genuineMissed = Object.values(result.targets).some((t) => t.genuineAccepted !== t.genuineSent);
say(`\nsaved ${saveResult(options.quick ? 'fuzz-quick' : 'fuzz', result)}`);
const clean =
  Object.values(findings).every((count) => count === 0) && !genuineMissed && result.total >= total;
say(clean ? 'PASS' : 'FAIL');
process.exit(clean ? 0 : 1);
