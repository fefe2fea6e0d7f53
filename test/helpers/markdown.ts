import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../lib/data-dir';

/** README.md and every page under docs/, as paths relative to the project root. */
export function docFiles(): string[] {
  const pages: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(path.join(projectRoot(), dir), { withFileTypes: true })) {
      const rel = path.posix.join(dir, entry.name);
      if (entry.isDirectory()) walk(rel);
      else if (entry.name.endsWith('.md')) pages.push(rel);
    }
  };
  walk('docs');
  return ['README.md', ...pages.sort()];
}

export function readDoc(rel: string): string {
  return fs.readFileSync(path.join(projectRoot(), rel), 'utf8');
}

/** The text with fenced code blocks blanked out (their lines kept, so nothing else shifts). */
function withoutFences(markdown: string): string {
  return markdown.replace(/^([ \t]*)(`{3,})[^\n]*\n[\s\S]*?^\1\2[ \t]*$/gm, (block) => block.replace(/[^\n]/g, ''));
}

/**
 * The part of a page under `heading` (a whole line such as `## Configuration`), up to the next
 * heading of the same or a higher level. Throws when the page has no such heading, so a moved
 * section fails the test that reads it instead of passing on an empty string.
 */
export function section(markdown: string, heading: string): string {
  const level = /^#+/.exec(heading)![0].length;
  const lines = markdown.split('\n');
  const prose = withoutFences(markdown).split('\n');
  const start = prose.indexOf(heading);
  if (start < 0) throw new Error(`no heading "${heading}"`);
  let end = start + 1;
  while (end < lines.length && !new RegExp(`^#{1,${level}} `).test(prose[end]!)) end++;
  return lines.slice(start, end).join('\n');
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, each space a hyphen; repeats get -1, -2. */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const m of withoutFences(markdown).matchAll(/^#{1,6} (.+)$/gm)) {
    const text = m[1]!.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    const base = text
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  return result;
}

/** Links to files of this repository (not http(s) or mailto), outside code blocks and code spans. */
export function relativeLinks(markdown: string): string[] {
  const prose = withoutFences(markdown).replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((target) => !/^[a-z]+:/i.test(target));
}
