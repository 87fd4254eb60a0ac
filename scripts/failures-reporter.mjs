// A node:test reporter that lists every failed test at the end of the run, with its file
// and assertion, so that the tail of a long log says what failed and why.
const MAX = 1500;

function describe(err) {
  const e = err?.cause ?? err;
  if (!e) return 'unknown error';
  const parts = [String(e.message ?? e).slice(0, MAX)];
  if (e.code === 'ERR_ASSERTION' && ('expected' in e || 'actual' in e)) {
    const show = (v) => { try { return JSON.stringify(v)?.slice(0, MAX); } catch { return String(v); } };
    parts.push(`expected: ${show(e.expected)}`, `actual:   ${show(e.actual)}`);
  }
  return parts.join('\n    ');
}

export default async function* failures(source) {
  const failed = [];
  for await (const event of source) {
    if (event.type !== 'test:fail') continue;
    const { name, file, details } = event.data;
    // A parent whose only fault is a failed subtest adds nothing.
    if (details?.error?.failureType === 'subtestsFailed') continue;
    failed.push(`- ${name}${file ? ` (${file.split('/').slice(-2).join('/')})` : ''}\n    ${describe(details?.error)}`);
  }
  if (failed.length) yield `\n== ${failed.length} failed test(s):\n${failed.join('\n')}\n`;
}
