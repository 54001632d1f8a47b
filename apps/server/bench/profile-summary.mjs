// Summarises a V8 .cpuprofile: self time by function and by where its code lives (our source
// file, or the npm package), so a profile answers "where does each millisecond go".
// Usage: node bench/profile-summary.mjs FILE.cpuprofile [topN]
import { readFileSync } from 'node:fs';

const [file, topText = '40'] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const top = Number(topText);
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const selfUs = new Map();
const deltas = profile.timeDeltas;
for (let index = 0; index < profile.samples.length; index += 1) {
  const id = profile.samples[index];
  selfUs.set(id, (selfUs.get(id) ?? 0) + (deltas[index] ?? 0));
}
const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);
const where = (url) => {
  if (url === '') return '(native/V8)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm !== -1) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return url;
  const dist = url.indexOf('/dist/');
  return dist === -1 ? url : url.slice(dist + 6);
};
const byFunction = new Map();
const byPlace = new Map();
for (const [id, us] of selfUs) {
  const { callFrame } = byId.get(id);
  const name = `${callFrame.functionName || '(anonymous)'} ${where(callFrame.url)}:${callFrame.lineNumber + 1}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + us);
  const place = callFrame.url === '' ? callFrame.functionName || '(native)' : where(callFrame.url);
  byPlace.set(place, (byPlace.get(place) ?? 0) + us);
}
const print = (title, map) => {
  console.log(`\n## ${title}`);
  for (const [name, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(
      `${((us / totalUs) * 100).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`,
    );
  }
};
console.log(`total sampled: ${(totalUs / 1e6).toFixed(2)} s`);
print('self time by place', byPlace);
print('self time by function', byFunction);
