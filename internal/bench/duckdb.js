// The DuckDB reference of the figures engine (bench path "engine"): reads
// the same generated Graph active user detail CSV and computes, per
// workload, the users licensed for it and the users active in it within
// the window — what the engine's parse + Compute also works out — then
// prints one JSON line: its time, CPU, peak RSS and the counts, which the
// harness compares with the engine's own.
//
// Run by the harness as: node duckdb.js <node_modules> <csv> <YYYY-MM-DD> <days>
'use strict';
const fs = require('fs');
const { createRequire } = require('module');
const path = require('path');

const [modules, file, reportDate, days] = process.argv.slice(2);
const { DuckDBInstance } = createRequire(path.join(modules, 'noop.js'))('@duckdb/node-api');

// OneDrive merges into SharePoint as in license.NormalizeWorkload:
// licensed if either is, the later activity wins.
const workloads = [
  ['exchange', ['Exchange']],
  ['sharepoint', ['SharePoint', 'OneDrive']],
  ['teams', ['Teams']],
  ['yammer', ['Yammer']],
  ['skype', ['Skype For Business']],
];
const q = (c) => '"' + c + '"';
const cols = [];
for (const [name, parts] of workloads) {
  const licensed = parts.map((p) => q('Has ' + p + ' License')).join(' OR ');
  const last = parts.length === 1 ? q(parts[0] + ' Last Activity Date') : 'greatest(' + parts.map((p) => q(p + ' Last Activity Date')).join(', ') + ')';
  // Active: a last activity strictly after D - N days (license.Active).
  cols.push(`count(*) FILTER (WHERE ${licensed}) AS "${name}_licensed"`);
  cols.push(`count(*) FILTER (WHERE ${last} > DATE '${reportDate}' - INTERVAL ${Number(days)} DAY) AS "${name}_active"`);
}
const sql = `SELECT ${cols.join(', ')} FROM read_csv('${file.replace(/'/g, "''")}', header = true, auto_detect = true)`;

async function main() {
  const start = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  const reader = await conn.runAndReadAll(sql);
  const row = reader.getRowObjects()[0];
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
  const out = { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, peakRSSKiB: hwm ? Number(hwm[1]) : 0 };
  for (const [k, v] of Object.entries(row)) out[k] = Number(v);
  process.stdout.write(JSON.stringify(out) + '\n');
}
main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + '\n');
  process.exit(1);
});
