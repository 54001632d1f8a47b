// Lists functions longer than a number of lines (default 70): `node scripts/long-functions.mjs [max] [dir…]`.
// Counts a function's lines from its first to its last line, nested functions included.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const [maxArg, ...dirs] = process.argv.slice(2);
const max = Number(maxArg ?? 70);
const roots = dirs.length > 0 ? dirs : ['apps/server/src'];
const found = [];

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) walk(file);
    else if (/\.tsx?$/.test(name) && !name.endsWith('.d.ts')) check(file);
  }
}

function nameOf(node) {
  if (node.name !== undefined) return node.name.getText();
  const parent = node.parent;
  if (parent && ts.isVariableDeclaration(parent)) return parent.name.getText();
  if (parent && ts.isPropertyAssignment(parent)) return parent.name.getText();
  if (parent && ts.isCallExpression(parent)) return `<callback of ${parent.expression.getText().slice(0, 40)}>`;
  return '<anonymous>';
}

function check(file) {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const visit = (node) => {
    if (ts.isFunctionLike(node) && node.body !== undefined) {
      const start = source.getLineAndCharacterOfPosition(node.getStart()).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = end - start + 1;
      if (lines > max) found.push({ file, name: nameOf(node), line: start + 1, lines });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}

for (const root of roots) walk(root);
found.sort((a, b) => b.lines - a.lines);
for (const entry of found) console.log(`${entry.lines}\t${entry.file}:${entry.line}\t${entry.name}`);
console.log(`${found.length} functions over ${max} lines`);
