import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../../lib/data-dir';
import { loadSupergraph, subgraphUrlsOf, urlVariableOf } from '../../../gateway/supergraph';

const ours = loadSupergraph(fs.readFileSync(path.join(projectRoot(), 'schema/supergraph.graphql'), 'utf8'));

describe('any supergraph', () => {
  it('reads the subgraphs and their @join__graph URLs, and the API schema without federation types', () => {
    expect(ours.subgraphs).toEqual(
      expect.arrayContaining([
        { name: 'listings', url: 'http://127.0.0.1:4001/graphql' },
        { name: 'payments', url: 'http://127.0.0.1:4002/graphql' },
        { name: 'crm', url: 'http://127.0.0.1:4003/graphql' },
        { name: 'email', url: 'http://127.0.0.1:4004/graphql' },
      ]),
    );
    expect(ours.apiSchema.getType('Listing')).toBeDefined();
    expect(ours.apiSchema.getType('join__Graph')).toBeUndefined();
  });

  it('moves a subgraph with <NAME>_URL and names the variable of a bad one', () => {
    expect(urlVariableOf('my-reviews')).toBe('MY_REVIEWS_URL');
    const urls = subgraphUrlsOf(ours.subgraphs, { LISTINGS_URL: 'http://listings.internal:8080/graphql', CRM_URL: '' });
    expect(urls).toMatchObject({
      listings: 'http://listings.internal:8080/graphql',
      crm: 'http://127.0.0.1:4003/graphql',
    });
    expect(() => subgraphUrlsOf([{ name: 'reviews', url: '' }], { REVIEWS_URL: 'not a url' })).toThrow(
      /REVIEWS_URL: subgraph reviews needs an http\(s\) URL/,
    );
  });
});
