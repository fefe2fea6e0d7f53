/** The IndexNow protocol's rules for one submission, as search engines check them (indexnow.org/documentation). */

/** URLs in one POST, at most. */
export const MAX_URLS = 10_000;
/** 8–128 letters, digits and dashes. */
export const KEY_PATTERN = /^[A-Za-z0-9-]{8,128}$/;

export interface Submission {
  host: string;
  key: string;
  keyLocation?: string;
  urlList: string[];
}

/** Why a submission is refused: the status the protocol gives it and a short reason. */
export class SubmissionRefused extends Error {
  constructor(
    readonly status: 400 | 403 | 422,
    message: string,
  ) {
    super(message);
  }
}

const urlOf = (value: string): URL | null => {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
};

/** The hostname of `host` as sent (which may carry a port). */
const hostnameOf = (host: string): string | null => {
  try {
    return new URL(`http://${host}`).hostname.toLowerCase();
  } catch {
    return null;
  }
};

/**
 * A URL belongs to `host` when their hostnames match: the protocol speaks of hosts, not ports, and
 * locally the site and the gateway serving the key file share 127.0.0.1 on different ports.
 */
const belongs = (url: URL, host: string): boolean => url.hostname.toLowerCase() === hostnameOf(host);

/**
 * Checks a POST body's shape (400), the key's format and that every URL and the key location belong
 * to `host` (422). The key's validity (403) needs the key file: the caller checks it.
 */
export function checkSubmission(body: unknown): Submission {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new SubmissionRefused(400, 'the body must be a JSON object { host, key, keyLocation?, urlList }');
  const { host, key, keyLocation, urlList } = body as Record<string, unknown>;
  if (typeof host !== 'string' || host.length === 0) throw new SubmissionRefused(400, 'host is required');
  if (typeof key !== 'string' || key.length === 0) throw new SubmissionRefused(400, 'key is required');
  if (keyLocation !== undefined && typeof keyLocation !== 'string')
    throw new SubmissionRefused(400, 'keyLocation must be a URL');
  if (!Array.isArray(urlList) || urlList.length === 0)
    throw new SubmissionRefused(400, 'urlList must be a non-empty array of URLs');
  if (urlList.length > MAX_URLS)
    throw new SubmissionRefused(400, `urlList has ${urlList.length} URLs; at most ${MAX_URLS} per request`);
  if (urlList.some((u) => typeof u !== 'string' || !urlOf(u)))
    throw new SubmissionRefused(400, 'every entry of urlList must be an absolute http(s) URL');
  if (!KEY_PATTERN.test(key)) throw new SubmissionRefused(422, 'the key must be 8 to 128 letters, digits or dashes');
  const foreign = (urlList as string[]).find((u) => !belongs(urlOf(u)!, host));
  if (foreign) throw new SubmissionRefused(422, `${foreign} does not belong to host ${host}`);
  if (keyLocation !== undefined) {
    const location = urlOf(keyLocation);
    if (!location) throw new SubmissionRefused(400, 'keyLocation must be an absolute http(s) URL');
    if (!belongs(location, host)) throw new SubmissionRefused(422, `keyLocation ${keyLocation} is not on host ${host}`);
  }
  return { host, key, ...(keyLocation !== undefined ? { keyLocation } : {}), urlList: urlList as string[] };
}

/** The one-URL GET form (`?url=…&key=…[&keyLocation=…]`) as a submission of one. */
export function submissionOfQuery(params: URLSearchParams): Submission {
  const url = params.get('url');
  const key = params.get('key');
  const parsed = url ? urlOf(url) : null;
  if (!parsed) throw new SubmissionRefused(400, 'url must be an absolute http(s) URL');
  if (!key) throw new SubmissionRefused(400, 'key is required');
  const keyLocation = params.get('keyLocation') ?? undefined;
  return checkSubmission({ host: parsed.host, key, keyLocation, urlList: [url] });
}

/** Loopback key locations are fetched (the local gateway serves the key file); others cannot be reached from here. */
export const isLoopback = (url: string): boolean => {
  const hostname = new URL(url).hostname;
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]' || hostname === '::1';
};
