/**
 * The `skip` option of the reliability suites: they start their own redis-server, memcached and
 * PostgreSQL cluster, so they need those binaries. Missing ones skip loudly, or fail under CI=true.
 */
import { missingBinaries } from '../../reliability/lib/servers.js';
import { IN_CI } from '../../tools/services.js';

/** False when every server binary is installed; otherwise a loud reason (a thrown error under CI=true). */
export function binariesSkip(): false | string {
  const missing = missingBinaries();
  if (missing.length === 0) return false;
  const message = `${missing.join(', ')} not installed`;
  if (IN_CI) throw new Error(`${message} — CI=true requires them (see .ci/run)`);
  const reason = `SKIPPED: ${message}; install them to run this suite`;
  process.stderr.write(`\n!!! ${reason} !!!\n\n`);
  return reason;
}
