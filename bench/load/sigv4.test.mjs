// Tests of the stub's SigV4 verifier (sigv4.mjs): AWS's own test-suite vectors, and requests that appsync-rs and Amplify JS signed. Run: node --test bench/load/sigv4.test.mjs
//
// The vectors are copied from the AWS SigV4 test suite as shipped in the `aws-sigv4` crate
// (aws-signing-test-suite/v4, Apache-2.0): the request, the credentials and the signed form.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import test from 'node:test';
import { verify, stringToSign, parseAuthorization, canonicalQuery } from './sigv4.mjs';

const SUITE_CREDENTIALS = {
  AKIDEXAMPLE: { secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
};
const SUITE_TIME = new Date('2015-08-30T12:36:00Z');

// get-vanilla-with-session-token: header-signed-request.txt and header-canonical-request.txt.
const GET_VANILLA_TOKEN = {
  token: '6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267',
  headers: {
    host: 'example.amazonaws.com',
    'x-amz-security-token': '6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267',
    'x-amz-date': '20150830T123600Z',
    authorization: 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8',
  },
  canonical: [
    'GET',
    '/',
    '',
    'host:example.amazonaws.com',
    'x-amz-date:20150830T123600Z',
    'x-amz-security-token:6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267',
    '',
    'host;x-amz-date;x-amz-security-token',
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  ].join('\n'),
};

// post-x-www-form-urlencoded: a body, and headers in another case and order than signed.
const POST_FORM = {
  headers: {
    'content-type': 'application/x-www-form-urlencoded',
    host: 'example.amazonaws.com',
    'content-length': '13',
    'x-amz-date': '20150830T123600Z',
    'x-amz-content-sha256': '9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e',
    authorization: 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=content-length;content-type;host;x-amz-content-sha256;x-amz-date, Signature=d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b',
  },
  body: 'Param1=value1',
  stringToSign: [
    'AWS4-HMAC-SHA256',
    '20150830T123600Z',
    '20150830/us-east-1/service/aws4_request',
    'b1edd1d03544c25390e32085d55b57acc9a3961bb59415ff86c45c3d89d16cfb',
  ].join('\n'),
};

test('AWS suite: get-vanilla-with-session-token verifies, canonical request as published', () => {
  const v = GET_VANILLA_TOKEN;
  const credentials = (akid) => akid === 'AKIDEXAMPLE' && { ...SUITE_CREDENTIALS.AKIDEXAMPLE, sessionToken: v.token };
  const auth = parseAuthorization(v.headers.authorization);
  const sts = stringToSign({ method: 'GET', path: '/', query: '', headers: v.headers, body: '', auth, amzDate: '20150830T123600Z' });
  assert.equal(sts.canonicalRequest, v.canonical);
  const ok = verify({ method: 'GET', path: '/', headers: v.headers, body: '', credentials, now: SUITE_TIME });
  assert.deepEqual(ok, { ok: true, accessKeyId: 'AKIDEXAMPLE' });
});

test('AWS suite: post-x-www-form-urlencoded verifies, string to sign as published', () => {
  const v = POST_FORM;
  const auth = parseAuthorization(v.headers.authorization);
  const sts = stringToSign({ method: 'POST', path: '/', query: '', headers: v.headers, body: v.body, auth, amzDate: '20150830T123600Z' });
  assert.equal(sts.stringToSign, v.stringToSign);
  const credentials = (akid) => SUITE_CREDENTIALS[akid];
  assert.equal(verify({ method: 'POST', path: '/', headers: v.headers, body: v.body, credentials, now: SUITE_TIME }).ok, true);
});

test('AWS suite: any change is refused', () => {
  const v = POST_FORM;
  const credentials = (akid) => SUITE_CREDENTIALS[akid];
  const base = { method: 'POST', path: '/', headers: v.headers, body: v.body, credentials, now: SUITE_TIME };
  const refused = (over, errorType = 'InvalidSignatureException') => {
    const r = verify({ ...base, ...over });
    assert.equal(r.ok, false, JSON.stringify(over));
    assert.equal(r.errorType, errorType, JSON.stringify(r));
  };
  refused({ body: 'Param1=value2' });
  refused({ method: 'PUT' });
  refused({ path: '/other' });
  refused({ query: 'a=b' });
  refused({ headers: { ...v.headers, host: 'example.amazonaws.com:8443' } });
  refused({ credentials: () => ({ secretAccessKey: 'wrong' }) });
  refused({ credentials: () => undefined }, 'UnrecognizedClientException');
  refused({ now: new Date('2015-08-30T12:50:00Z') });
  refused({ headers: { ...v.headers, authorization: v.headers.authorization.replace('d387', 'd388') } });
  refused({ headers: { ...v.headers, authorization: 'Bearer x' } }, 'IncompleteSignatureException');
  const { 'content-type': _, ...without } = v.headers;
  refused({ headers: without }, 'IncompleteSignatureException');
});

test('canonical query: decoded, RFC 3986-encoded, sorted by name then value', () => {
  assert.equal(canonicalQuery('b=2&a=%7E&a=1&c=x+y&d'), 'a=1&a=~&b=2&c=x%2By&d=');
});

const fixtures = JSON.parse(readFileSync(new URL('./fixtures/signed-requests.json', import.meta.url)));
const fixtureCredentials = (akid) => (akid === fixtures.credentials.accessKeyId ? fixtures.credentials : undefined);

for (const r of fixtures.requests) {
  test(`signed by ${r.signer}: ${r.kind} verifies, and a changed body or host does not`, () => {
    const when = r.headers['x-amz-date'];
    const now = new Date(`${when.slice(0, 4)}-${when.slice(4, 6)}-${when.slice(6, 8)}T${when.slice(9, 11)}:${when.slice(11, 13)}:${when.slice(13, 15)}Z`);
    const base = {
      method: r.method, path: r.path, query: r.query, headers: r.headers, body: r.body,
      credentials: fixtureCredentials, service: 'appsync', region: fixtures.region, now,
    };
    assert.deepEqual(verify(base), { ok: true, accessKeyId: fixtures.credentials.accessKeyId });
    assert.equal(verify({ ...base, body: `${r.body} ` }).ok, false);
    assert.equal(verify({ ...base, headers: { ...r.headers, host: 'localhost:1' } }).ok, false);
    assert.equal(verify({ ...base, region: 'eu-west-1' }).ok, false);
    const { 'x-amz-security-token': _, ...noToken } = r.headers;
    assert.equal(verify({ ...base, headers: noToken }).ok, false);
  });
}
