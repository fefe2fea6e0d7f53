import { keyLocationFor } from '../../../../subgraphs/seo/domain/key-location';

describe('keyLocationFor', () => {
  const KEY = 'saypro-dev-indexnow-key';
  it('points at the gateway when it is on the listings host (locally: 127.0.0.1 on another port)', () => {
    expect(keyLocationFor('127.0.0.1:3000', 'http://127.0.0.1:4000/', 'http://127.0.0.1:3000/listings/{id}', KEY)).toBe(
      'http://127.0.0.1:4000/saypro-dev-indexnow-key.txt',
    );
    expect(
      keyLocationFor('saypro.example', 'https://saypro.example', 'https://saypro.example/l/{id}-{slug}', KEY),
    ).toBe('https://saypro.example/saypro-dev-indexnow-key.txt');
  });

  it("falls back to the site's root when the gateway is on another host (IndexNow refuses a key file off the host)", () => {
    expect(
      keyLocationFor('saypro.example', 'https://api.saypro.example', 'https://saypro.example/l/{id}-{slug}', KEY),
    ).toBe('https://saypro.example/saypro-dev-indexnow-key.txt');
  });
});
