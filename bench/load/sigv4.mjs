// SigV4 header-signature verification for the load-bench stub, written from appsync-protocol.md §6.1 (tested by sigv4.test.mjs).
//
// The stub verifies every IAM request for real (HTTP, realtime connect, each `start`), so the
// clients' signing work is checked, not just timed. Only header signing is supported (what
// AppSync clients use); presigned URLs are not.

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

const ALGORITHM = 'AWS4-HMAC-SHA256';

const sha256Hex = (data) => createHash('sha256').update(data).digest('hex');
const hmac = (key, data) => createHmac('sha256', key).update(data).digest();

// RFC 3986 encoding: everything but the unreserved set `A-Za-z0-9-_.~`, bytes as `%XX` (upper case).
const encodeRfc3986 = (s) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

// Percent-decoding that never turns `+` into a space (query values are not form data here).
const decodeComponent = (s) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

/**
 * The canonical URI: every segment of the path as sent (already percent-encoded) is encoded
 * once more ("double encoding", every service but S3); `/` is kept, an empty path is `/`.
 */
export function canonicalUri(path) {
  if (!path) return '/';
  return path.split('/').map(encodeRfc3986).join('/');
}

/** The canonical query: names and values decoded, RFC 3986-encoded, sorted by name then value. */
export function canonicalQuery(query) {
  if (!query) return '';
  const pairs = query
    .split('&')
    .filter((p) => p.length > 0)
    .map((p) => {
      const i = p.indexOf('=');
      const [k, v] = i < 0 ? [p, ''] : [p.slice(0, i), p.slice(i + 1)];
      return [encodeRfc3986(decodeComponent(k)), encodeRfc3986(decodeComponent(v))];
    });
  pairs.sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

/** Trims a header value and collapses its inner runs of whitespace to one space. */
const canonicalValue = (v) => String(v).trim().replace(/\s+/g, ' ');

/**
 * Parses `AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request,
 * SignedHeaders=a;b, Signature=hex` (separators: a comma, spaces optional).
 */
export function parseAuthorization(value) {
  if (typeof value !== 'string' || !value.startsWith(`${ALGORITHM} `)) return null;
  const fields = {};
  for (const part of value.slice(ALGORITHM.length + 1).split(',')) {
    const i = part.indexOf('=');
    if (i < 0) return null;
    fields[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  const { Credential: credential, SignedHeaders: signedHeaders, Signature: signature } = fields;
  if (!credential || !signedHeaders || !signature) return null;
  const scope = credential.split('/');
  if (scope.length !== 5 || scope[4] !== 'aws4_request') return null;
  const [accessKeyId, date, region, service] = scope;
  return { accessKeyId, date, region, service, signedHeaders: signedHeaders.split(';'), signature };
}

/** `YYYYMMDD'T'HHMMSS'Z'` to a Date, or null. */
const parseAmzDate = (s) => {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s || '');
  return m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])) : null;
};

// Derived signing keys, per (secret, date, region, service): AWS caches them the same way, and
// deriving one costs four HMACs.
const keyCache = new Map();
function signingKey(secret, date, region, service) {
  const id = `${secret}\n${date}\n${region}\n${service}`;
  let key = keyCache.get(id);
  if (!key) {
    const kDate = hmac(`AWS4${secret}`, date);
    const kRegion = hmac(kDate, region);
    const kService = hmac(kRegion, service);
    key = hmac(kService, 'aws4_request');
    if (keyCache.size > 64) keyCache.clear();
    keyCache.set(id, key);
  }
  return key;
}

/** The canonical request and string to sign (exposed for the tests). */
export function stringToSign({ method, path, query, headers, body, auth, amzDate }) {
  const lines = [];
  for (const name of auth.signedHeaders) {
    const values = headers[name];
    if (values === undefined) return { missing: name };
    lines.push(`${name}:${(Array.isArray(values) ? values : [values]).map(canonicalValue).join(',')}\n`);
  }
  const canonicalRequest = [
    method.toUpperCase(),
    canonicalUri(path),
    canonicalQuery(query),
    lines.join(''),
    auth.signedHeaders.join(';'),
    sha256Hex(body ?? ''),
  ].join('\n');
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  return {
    canonicalRequest,
    stringToSign: `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonicalRequest)}`,
  };
}

/**
 * Verifies a header-signed request.
 *
 * - `headers`: lower-case names to a value or an array of values (as received; a header sent
 *   several times is comma-joined in the canonical form);
 * - `credentials(accessKeyId)`: `{secretAccessKey, sessionToken?}` or undefined;
 * - `service`, `region`: what the scope must say (omit to accept any);
 * - `now`: the verifier's clock (a Date); `maxSkewMs`: allowed distance of `x-amz-date`.
 *
 * Returns `{ok: true, accessKeyId}` or `{ok: false, errorType, message}`, with AWS's error types.
 */
export function verify({
  method, path, query = '', headers, body, credentials, service, region,
  now = new Date(), maxSkewMs = 5 * 60 * 1000,
}) {
  const fail = (errorType, message) => ({ ok: false, errorType, message });
  const authorization = headers.authorization;
  const auth = parseAuthorization(Array.isArray(authorization) ? authorization[0] : authorization);
  if (!auth) return fail('IncompleteSignatureException', 'Authorization header is not a SigV4 header signature.');
  if (service && auth.service !== service) return fail('InvalidSignatureException', `Credential should be scoped to correct service: '${service}'.`);
  if (region && auth.region !== region) return fail('InvalidSignatureException', `Credential should be scoped to a valid region: '${region}'.`);
  for (const required of ['host', 'x-amz-date']) {
    if (!auth.signedHeaders.includes(required)) return fail('IncompleteSignatureException', `'${required}' must be a signed header.`);
  }
  const sorted = [...auth.signedHeaders].sort();
  if (sorted.some((h, i) => h !== auth.signedHeaders[i] || h !== h.toLowerCase())) {
    return fail('IncompleteSignatureException', 'SignedHeaders must be lower case and sorted.');
  }
  const amzDate = Array.isArray(headers['x-amz-date']) ? headers['x-amz-date'][0] : headers['x-amz-date'];
  const when = parseAmzDate(amzDate);
  if (!when) return fail('IncompleteSignatureException', 'x-amz-date is missing or malformed.');
  if (amzDate.slice(0, 8) !== auth.date) return fail('InvalidSignatureException', 'Credential date does not match x-amz-date.');
  if (Math.abs(now.getTime() - when.getTime()) > maxSkewMs) return fail('InvalidSignatureException', 'Signature expired or not yet valid.');
  const creds = credentials(auth.accessKeyId);
  if (!creds) return fail('UnrecognizedClientException', 'The security token included in the request is invalid.');
  const token = headers['x-amz-security-token'];
  if ((creds.sessionToken ?? undefined) !== (token ?? undefined)) {
    return fail('UnrecognizedClientException', 'The security token included in the request is invalid.');
  }
  if (token !== undefined && !auth.signedHeaders.includes('x-amz-security-token')) {
    return fail('IncompleteSignatureException', "'x-amz-security-token' must be a signed header.");
  }
  const sts = stringToSign({ method, path, query, headers, body, auth, amzDate });
  if (sts.missing) return fail('IncompleteSignatureException', `Signed header '${sts.missing}' is missing.`);
  const expected = createHmac('sha256', signingKey(creds.secretAccessKey, auth.date, auth.region, auth.service))
    .update(sts.stringToSign)
    .digest();
  const given = Buffer.from(auth.signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return fail('InvalidSignatureException', 'The request signature we calculated does not match the signature you provided.');
  }
  return { ok: true, accessKeyId: auth.accessKeyId };
}

/** Node's `req.rawHeaders` to lower-case names and values (repeated names become arrays). */
export function headersFromRaw(rawHeaders) {
  const out = {};
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i].toLowerCase();
    const value = rawHeaders[i + 1];
    if (out[name] === undefined) out[name] = value;
    else if (Array.isArray(out[name])) out[name].push(value);
    else out[name] = [out[name], value];
  }
  return out;
}

/** A realtime authorization object (`{host, x-amz-date, authorization, ...}`) to lower-case headers. */
export function headersFromObject(obj) {
  const out = {};
  for (const [k, v] of Object.entries(obj ?? {})) {
    if (typeof v === 'string') out[k.toLowerCase()] = v;
  }
  return out;
}
