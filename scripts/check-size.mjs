#!/usr/bin/env node
// Fails when a library source file in src/ is longer than MAX_FILE_LINES lines or holds a function longer than
// MAX_FUNCTION_LINES lines (issue 14: a newcomer reads one function, one file, at a time). Tests are exempt.
// `node scripts/check-size.mjs --report` lists the longest functions and files without failing.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const MAX_FILE_LINES = 350;
const MAX_FUNCTION_LINES = 120;
const root = new URL('..', import.meta.url).pathname;
const report = process.argv.includes('--report');

function* sources(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(path);
    else if (/\.tsx?$/.test(entry.name) && !/\.test(-d)?\.ts$/.test(entry.name)) yield path;
  }
}

function functionName(node, file) {
  if (node.name) return node.name.getText(file);
  const parent = node.parent;
  if (parent && ts.isVariableDeclaration(parent)) return parent.name.getText(file);
  if (parent && ts.isPropertyAssignment(parent)) return parent.name.getText(file);
  return '(anonymous)';
}

const files = [];
const functions = [];
for (const path of sources(join(root, 'src'))) {
  const text = readFileSync(path, 'utf8');
  const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const name = relative(root, path);
  files.push({
    name,
    lines: file.getLineAndCharacterOfPosition(file.end).line + (text.endsWith('\n') ? 0 : 1),
  });
  const visit = (node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = file.getLineAndCharacterOfPosition(node.getStart(file)).line;
      const end = file.getLineAndCharacterOfPosition(node.end).line;
      functions.push({ name: `${name}:${start + 1} ${functionName(node, file)}`, lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
}

const longFiles = files.filter((f) => f.lines > MAX_FILE_LINES);
const longFunctions = functions.filter((f) => f.lines > MAX_FUNCTION_LINES);
if (report) {
  const top = (list) => [...list].sort((a, b) => b.lines - a.lines).slice(0, 15);
  console.log('longest files:');
  for (const f of top(files)) console.log(`  ${String(f.lines).padStart(5)}  ${f.name}`);
  console.log('longest functions:');
  for (const f of top(functions)) console.log(`  ${String(f.lines).padStart(5)}  ${f.name}`);
}
for (const f of longFiles)
  console.error(`check:size: ${f.name} has ${f.lines} lines (at most ${MAX_FILE_LINES})`);
for (const f of longFunctions)
  console.error(`check:size: ${f.name} is ${f.lines} lines long (at most ${MAX_FUNCTION_LINES})`);
if (longFiles.length + longFunctions.length > 0) process.exit(1);
console.log(
  `check:size: ${files.length} files in src/ at most ${MAX_FILE_LINES} lines, ${functions.length} functions at most ${MAX_FUNCTION_LINES}`,
);
