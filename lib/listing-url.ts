import { transliterate } from 'transliteration';

/** Longest slug, characters: long enough to read, short enough for a URL that is shared. */
export const SLUG_MAX_LENGTH = 60;
/** The slug of a title with nothing that transliterates to a letter or digit. */
export const FALLBACK_SLUG = 'listing';

/**
 * The URL-safe words of a title: transliterated to ASCII (Cyrillic, Greek, CJK and the rest by the
 * pinned `transliteration` table), lower-case, runs of anything else as one hyphen, no hyphen at
 * either end, cut to SLUG_MAX_LENGTH at a word boundary when there is one. The id is in the URL
 * too, so a slug is for readers and crawlers only: a title edit changes it, the id still finds it.
 */
export function slugify(title: string): string {
  const words = transliterate(title.normalize('NFKC'))
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (!words) return FALLBACK_SLUG;
  if (words.length <= SLUG_MAX_LENGTH) return words;
  const cut = words.slice(0, SLUG_MAX_LENGTH + 1);
  const boundary = cut.lastIndexOf('-');
  return (boundary > 0 ? cut.slice(0, boundary) : cut.slice(0, SLUG_MAX_LENGTH)).replace(/-+$/, '');
}

/** The placeholders a SITE_URL template may hold; `{id}` is required. */
const PLACEHOLDER = /\{(id|slug)\}/g;

/** The canonical URL of a listing on SayPro's site: SITE_URL with `{id}` and `{slug}` filled in. */
export function listingUrl(template: string, listing: { id: string; title: string }): string {
  return template.replace(PLACEHOLDER, (_, name: string) =>
    name === 'id' ? encodeURIComponent(listing.id) : slugify(listing.title),
  );
}

/** Why a SITE_URL template cannot work, or undefined when it can (config validation). */
export function siteUrlTemplateProblem(template: string): string | undefined {
  if (!template.includes('{id}')) return 'must contain {id}';
  const leftover = template.replace(PLACEHOLDER, '').match(/[{}]/);
  if (leftover) return 'only {id} and {slug} may appear in braces';
  let url: URL;
  try {
    url = new URL(listingUrl(template, { id: '00000000-0000-4000-8000-000000000000', title: 'x' }));
  } catch {
    return 'must be an absolute URL once {id} and {slug} are filled in';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an http or https URL';
  if (template.split('/').slice(0, 3).join('/').includes('{')) return 'placeholders belong in the path, not the host';
  return undefined;
}

/** The site's origin (scheme, host, port) of a SITE_URL template: where sitemaps and key files live. */
export function siteOrigin(template: string): string {
  return new URL(listingUrl(template, { id: 'x', title: 'x' })).origin;
}
