import fs from 'node:fs';
import path from 'node:path';
import { buildSchema, GraphQLObjectType, Kind, parse, validate } from 'graphql';
import { CONFIG_KEYS } from '../../lib/config';
import { projectRoot } from '../../lib/data-dir';
import { CONTACT_PROPERTIES } from '../../subgraphs/crm/domain/contact-mapping';
import { PERMISSIONS, type Rule } from '../../lib/permissions';
import { API_KEY_SCOPES } from '../../lib/auth';
import { EVENT_NAMES } from '../../lib/events';
import { anchors, docFiles, readDoc, relativeLinks, section } from '../helpers/markdown';

const root = projectRoot();
const pages = docFiles();
const readme = readDoc('README.md');
const api = readDoc('docs/api.md');
const operations = readDoc('docs/operations.md');
const apiSchema = buildSchema(fs.readFileSync(path.join(root, 'schema/api.graphql'), 'utf8'));
/** The backticked names in a text: `listing(id)` → listing, `User.payments(first, after)` → User.payments. */
const codeNames = (text: string) => [...text.matchAll(/`([A-Za-z_][\w.]*)(?:\([^`]*\))?`/g)].map((m) => m[1]!);
/** Table rows of a section, each as its cells. */
const rows = (text: string) =>
  text
    .split('\n')
    .filter((line) => line.startsWith('| ') && !/^\|[-| ]+\|$/.test(line))
    .slice(1)
    .map((line) => line.slice(2, -2).split(' | '));

describe('README and docs/', () => {
  it('show only GraphQL that the published API schema accepts', () => {
    const blocks = pages.flatMap((page) =>
      [...readDoc(page).matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => ({
        page,
        block: m[1]!.replace(/#[^\n]*/g, ''),
      })),
    );
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    expect(blocks.filter((b) => b.page === 'README.md').length).toBeGreaterThanOrEqual(1);
    // A block may hold several operations; each is checked on its own (placeholders are strings).
    const problems = blocks.flatMap(({ page, block }) =>
      parse(block).definitions.flatMap((definition) =>
        validate(apiSchema, { kind: Kind.DOCUMENT, definitions: [definition] }).map(
          (e) => `${page}: ${e.message} in:\n${block}`,
        ),
      ),
    );
    expect(problems).toEqual([]);
  });

  it('link only to files and headings that exist', () => {
    const broken = pages.flatMap((page) =>
      relativeLinks(readDoc(page)).flatMap((link) => {
        const [file, anchor] = link.split('#') as [string, string | undefined];
        const target = file === '' ? page : path.posix.normalize(path.posix.join(path.posix.dirname(page), file));
        if (!fs.existsSync(path.join(root, target))) return [`${page}: ${link} (no file ${target})`];
        if (anchor === undefined || !target.endsWith('.md')) return [];
        return anchors(readDoc(target)).has(anchor) ? [] : [`${page}: ${link} (no heading #${anchor} in ${target})`];
      }),
    );
    expect(broken).toEqual([]);
  });
});

describe('README', () => {
  it('puts the two commands first', () => {
    const firstBlock = readme.slice(readme.indexOf('```sh'), readme.indexOf('```', readme.indexOf('```sh') + 5));
    expect(firstBlock).toContain('npm install && npm start');
    expect(firstBlock).toContain('npm test');
  });
});

describe('docs/api.md', () => {
  it('maps every custom scalar of the API in the frontend codegen recipe, as codegen.yml does', () => {
    const sdl = fs.readFileSync(path.join(root, 'schema/api.graphql'), 'utf8');
    const scalars = [...sdl.matchAll(/^scalar (\w+)/gm)].map((m) => m[1]).sort();
    const recipe = /scalars: \{([^}]*)\}/.exec(section(api, '## A typed client with codegen'))?.[1] ?? '';
    expect([...recipe.matchAll(/(\w+): '/g)].map((m) => m[1]).sort()).toEqual(scalars);
    const ours = fs.readFileSync(path.join(root, 'codegen.yml'), 'utf8');
    for (const scalar of scalars) expect(ours).toMatch(new RegExp(`^\\s+${scalar}: `, 'm'));
  });

  it('names every query and mutation of the API in its table by area, and fields that exist', () => {
    const table = rows(section(api, '## The graph, by area'));
    const named = table.flatMap((cells) => [...codeNames(cells[1]!), ...codeNames(cells[2]!)]);
    const roots = [apiSchema.getQueryType()!, apiSchema.getMutationType()!].flatMap((type) =>
      Object.keys(type.getFields()),
    );
    expect(named.filter((n) => !n.includes('.')).sort()).toEqual([...roots].sort());
    const missing = named
      .filter((n) => n.includes('.'))
      .filter((n) => {
        const [type, field] = n.split('.') as [string, string];
        const found = apiSchema.getType(type);
        return !(found instanceof GraphQLObjectType && field in found.getFields());
      });
    expect(missing).toEqual([]);
  });

  it('lists every API key scope and what lib/permissions.ts opens with it', () => {
    const table = rows(section(api, '### API keys')).filter((cells) => /^`[A-Z_]+`$/.test(cells[0]!));
    const enumName = (scope: string) => scope.replace(':', '_').toUpperCase();
    expect(table.map((cells) => cells[0]!.slice(1, -1))).toEqual(API_KEY_SCOPES.map(enumName));
    const rules: Rule[] = Object.values(PERMISSIONS);
    for (const scope of API_KEY_SCOPES) {
      const opens = table.find((cells) => cells[0] === `\`${enumName(scope)}\``)![1]!;
      const covered = rules
        .filter((rule) => rule.scope === scope)
        .flatMap((rule) => [...codeNames(rule.covers), ...(rule.covers.match(/(GET|POST) \/[a-z/-]+/g) ?? [])]);
      expect([scope, covered.filter((name) => !opens.includes(name.includes(' ') ? name : `\`${name}\``))]).toEqual([
        scope,
        [],
      ]);
    }
  });
});

describe('docs/operations.md', () => {
  it('documents exactly the variables lib/config.ts reads', () => {
    const documented = [...section(operations, '## Configuration').matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map(
      (m) => m[1],
    );
    expect([...documented].sort()).toEqual([...CONFIG_KEYS].sort());
  });

  it('lists the CRM field mapping exactly as the code has it', () => {
    const mapping = [...section(operations, '### HubSpot').matchAll(/^\| `([^`]+)` \| `([^`]+)` \|$/gm)].map((m) => [
      m[1],
      m[2],
    ]);
    expect(mapping).toEqual(CONTACT_PROPERTIES.map((p) => [p.field, p.property]));
  });
});

describe('docs/architecture.md', () => {
  it('tables every event lib/events.ts defines', () => {
    const events = rows(section(readDoc('docs/architecture.md'), '## Events: how data flows between services')).map(
      (cells) => cells[0]!.slice(1, -1),
    );
    expect(events).toEqual([...EVENT_NAMES]);
  });
});

describe('SECURITY.md', () => {
  it('prints the authorization matrix exactly as lib/permissions.ts has it', () => {
    const security = readDoc('SECURITY.md');
    const rows = [
      ...security.matchAll(
        /^\| `([a-zA-Z.]+)` \| (.+) \| (yes|no) \| (yes|no) \| (yes|no) \| (yes|no) \| (`[a-z:]+`|no) \|$/gm,
      ),
    ].map((m) => m.slice(1));
    const yn = (b: boolean) => (b ? 'yes' : 'no');
    expect(rows).toEqual(
      Object.entries(PERMISSIONS).map(([name, rule]: [string, Rule]) => [
        name,
        rule.covers,
        'no',
        yn(rule.user),
        yn(rule.owner || rule.user),
        yn(rule.admin),
        rule.scope ? `\`${rule.scope}\`` : 'no',
      ]),
    );
  });
});
