import fs from 'node:fs';
import path from 'node:path';
import { buildSchema, parse, validate } from 'graphql';
import { CONFIG_KEYS } from '../../lib/config';
import { projectRoot } from '../../lib/data-dir';
import { CONTACT_PROPERTIES } from '../../subgraphs/crm/domain/contact-mapping';
import { PERMISSIONS, type Rule } from '../../lib/permissions';

const readme = fs.readFileSync(path.join(projectRoot(), 'README.md'), 'utf8');

describe('README', () => {
  it('shows only GraphQL that the published API schema accepts', () => {
    const schema = buildSchema(fs.readFileSync(path.join(projectRoot(), 'schema/api.graphql'), 'utf8'));
    const blocks = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]!.replace(/#[^\n]*/g, ''));
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    // A block may hold several operations; each is checked on its own (placeholders are strings).
    const problems = blocks.flatMap((block) =>
      parse(block).definitions.flatMap((definition) => validate(schema, { kind: parse(block).kind, definitions: [definition] }).map((e) => `${e.message} in:\n${block}`)),
    );
    expect(problems).toEqual([]);
  });

  it("maps every custom scalar of the API in the frontend codegen recipe, as codegen.yml does", () => {
    const api = fs.readFileSync(path.join(projectRoot(), 'schema/api.graphql'), 'utf8');
    const scalars = [...api.matchAll(/^scalar (\w+)/gm)].map((m) => m[1]).sort();
    const recipe = /scalars: \{([^}]*)\}/.exec(readme.slice(readme.indexOf("A frontend's `codegen.ts`")))?.[1] ?? '';
    expect([...recipe.matchAll(/(\w+): '/g)].map((m) => m[1]).sort()).toEqual(scalars);
    const ours = fs.readFileSync(path.join(projectRoot(), 'codegen.yml'), 'utf8');
    for (const scalar of scalars) expect(ours).toMatch(new RegExp(`^\\s+${scalar}: `, 'm'));
  });

  it('puts the two commands first', () => {
    const firstBlock = readme.slice(readme.indexOf('```sh'), readme.indexOf('```', readme.indexOf('```sh') + 5));
    expect(firstBlock).toContain('npm install && npm start');
    expect(firstBlock).toContain('npm test');
  });

  it('documents exactly the variables lib/config.ts reads', () => {
    const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## Running the services separately'));
    const documented = [...section.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
    expect([...documented].sort()).toEqual([...CONFIG_KEYS].sort());
  });

  it('lists the CRM field mapping exactly as the code has it', () => {
    const section = readme.slice(readme.indexOf('## CRM (HubSpot)'), readme.indexOf('## Architecture'));
    const rows = [...section.matchAll(/^\| `([^`]+)` \| `([^`]+)` \|$/gm)].map((m) => [m[1], m[2]]);
    expect(rows).toEqual(CONTACT_PROPERTIES.map((p) => [p.field, p.property]));
  });
});

describe('SECURITY.md', () => {
  it('prints the authorization matrix exactly as lib/permissions.ts has it', () => {
    const security = fs.readFileSync(path.join(projectRoot(), 'SECURITY.md'), 'utf8');
    const rows = [...security.matchAll(/^\| `([a-zA-Z.]+)` \| (.+) \| (yes|no) \| (yes|no) \| (yes|no) \| (yes|no) \| (`[a-z:]+`|no) \|$/gm)].map((m) => m.slice(1));
    const yn = (b: boolean) => (b ? 'yes' : 'no');
    expect(rows).toEqual(
      Object.entries(PERMISSIONS).map(([name, rule]: [string, Rule]) => [name, rule.covers, 'no', yn(rule.user), yn(rule.owner || rule.user), yn(rule.admin), rule.scope ? `\`${rule.scope}\`` : 'no']),
    );
  });
});
