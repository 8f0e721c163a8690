// How the scripts read their arguments and print: the machine first, then one line per measure.
import { cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';

/** `--name value` options with these defaults; numbers for number defaults, true/false for boolean ones, else strings. */
export function args(defaults) {
  const options = Object.fromEntries(
    Object.entries(defaults).map(([k, v]) => [k, typeof v === 'boolean' ? { type: 'boolean', default: v } : { type: 'string', default: String(v) }]),
  );
  const { values } = parseArgs({ options });
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, typeof defaults[k] === 'number' ? Number(v) : v]));
}

export const ms = (x) => `${x.toFixed(2)} ms`;
export const signed = (x) => `${x >= 0 ? '+' : ''}${x.toFixed(2)} ms`;
export const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

export const print = (measure, value, extra = '') => console.log(`${measure.padEnd(46)} ${value}${extra ? `  (${extra})` : ''}`);

/** The first line of every script: what it ran on, and what else was on the box. */
export function printMachine(setup = 'PostgreSQL + Redis on the same box') {
  const cpu = cpus();
  console.log(
    `machine: ${cpu.length} cores (${cpu[0].model.trim()}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM; node ${process.version}; load ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}; ${setup}`,
  );
}

/** A table with a header row, columns padded to their widest cell. */
export function printTable(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const r of rows) console.log(line(r));
}
