// Where each process spent its CPU, without DevTools: the top functions by self time of a V8
// .cpuprofile (what `node --cpu-prof` writes when the process exits).
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { root } from './stack.mjs';

/** Node arguments that profile a process into `dir` (written at its exit). */
export const profileArgs = (dir) => ['--cpu-prof', `--cpu-prof-dir=${dir}`];

const where = (url, line) => {
  if (!url) return '';
  const path = url.startsWith('file://') ? relative(root, new URL(url).pathname) : url;
  // node_modules/<package>/… is enough to tell which library.
  return `${path.replace(/^(?:.*\/)?node_modules\/((?:@[^/]+\/)?[^/]+)\/.*$/, '$1/…')}:${line + 1}`;
};

/** Prints, for each .cpuprofile in `dir`, the `top` functions by self time (functionName + url:line), as a share of the busy samples. */
export function printProfiles(label, dir, top = 12) {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const { nodes, samples, timeDeltas } = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    const nodeById = new Map(nodes.map((n) => [n.id, n]));
    // A sample stands for the time until the next one.
    const selfMs = new Map();
    for (let i = 0; i < samples.length; i++) {
      const { callFrame } = nodeById.get(samples[i]);
      const key = `${callFrame.functionName || '(anonymous)'}  ${where(callFrame.url, callFrame.lineNumber)}`.trim();
      selfMs.set(key, (selfMs.get(key) ?? 0) + (timeDeltas[i + 1] ?? 0) / 1000);
    }
    const idle = selfMs.get('(idle)') ?? 0;
    selfMs.delete('(idle)');
    const busy = [...selfMs.values()].reduce((a, b) => a + b, 0);
    console.log(
      `\nprofile ${label} (${file}): samples over ${(busy + idle).toFixed(0)} ms of wall time, ${busy.toFixed(0)} ms not idle (start-up included); top ${top} by self time, share of the non-idle samples:`,
    );
    for (const [key, ms] of [...selfMs].sort((a, b) => b[1] - a[1]).slice(0, top))
      console.log(`  ${((100 * ms) / busy).toFixed(1).padStart(5)} %  ${ms.toFixed(0).padStart(6)} ms  ${key}`);
  }
}
