// A node:test reporter for the end of `npm test`: what was skipped (each suite or test, with its
// reason), what failed (by name; the dot reporter prints the details), and a machine-readable last
// line `N passed, N failed, N skipped` (plus `, N todo` when there are any). scripts/test.mjs
// writes it to a file and prints it after the run, so it always comes last.
import { relative, resolve } from 'node:path';

export default async function* summary(source) {
  let passed = 0;
  let todo = 0;
  const failed = [];
  const skipped = [];
  // Labels of finished tests waiting for their parent's name, by nesting level (a parent finishes
  // after its children; node reports one file's tests together).
  const pending = [];
  for await (const { type, data } of source) {
    if (type !== 'test:pass' && type !== 'test:fail') continue;
    const level = data.nesting;
    const children = pending.splice(level + 1).flat();
    const own = [];
    const fileWrapper = level === 0 && data.file !== undefined && resolve(data.name) === data.file;
    if (data.skip !== undefined && data.skip !== false) {
      own.push({
        list: skipped,
        text: `${data.name} — ${data.skip === true ? 'no reason given' : data.skip}`,
      });
    } else if (data.todo !== undefined && data.todo !== false) {
      todo++;
    } else if (type === 'test:fail') {
      // A parent that failed only because a subtest did is not a failure of its own.
      const failureType = data.details?.error?.failureType;
      if (failureType !== 'subtestsFailed')
        own.push({ list: failed, text: fileWrapper ? 'the file failed' : data.name });
    } else if (data.details?.type !== 'suite' && !fileWrapper) {
      passed++;
    }
    const prefix = fileWrapper ? '' : `${data.name} > `;
    const entries = [...own, ...children.map((c) => ({ list: c.list, text: `${prefix}${c.text}` }))];
    if (level > 0) {
      pending[level] = [...(pending[level] ?? []), ...entries];
      continue;
    }
    const file = data.file === undefined ? '' : `${relative(process.cwd(), data.file)}: `;
    for (const entry of entries) entry.list.push(`${file}${entry.text}`);
  }
  let out = '\n';
  if (skipped.length > 0) out += `Skipped (${skipped.length}):\n${skipped.map((s) => `  - ${s}\n`).join('')}`;
  if (failed.length > 0) out += `Failed (${failed.length}):\n${failed.map((s) => `  ✖ ${s}\n`).join('')}`;
  out += `${passed} passed, ${failed.length} failed, ${skipped.length} skipped${todo > 0 ? `, ${todo} todo` : ''}\n`;
  yield out;
}
