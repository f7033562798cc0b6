import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { certificateInfo } from '../../../src/protocols/tls/cert.js';
import { prng } from '../../helpers.js';
import { certificate, der, name, type Attribute } from './build.js';

const C: Attribute = ['2.5.4.6', 0x13, 'US'];
const O: Attribute = ['2.5.4.10', 0x0c, 'Example, Inc.'];
const CN: Attribute = ['2.5.4.3', 0x0c, 'www.example.com'];

function sample(overrides: Partial<Parameters<typeof certificate>[0]> = {}): Buffer {
  return certificate({
    serial: Buffer.from('009cfcda1da470875d', 'hex'),
    issuer: name([[C], [O], [['2.5.4.3', 0x13, 'Example CA']]]),
    subject: name([[C], [['2.5.4.8', 0x0c, 'Virginia']], [O], [CN, ['2.5.4.11', 0x0c, 'Web']], [['1.2.840.113549.1.9.1', 0x16, 'hostmaster@example.com']]]),
    notBefore: [0x17, '110504000000Z'],
    notAfter: [0x18, '20490704235959Z'],
    ...overrides,
  });
}

test('a certificate\'s fields in Suricata\'s formats: DN order and separators, serial with its leading 00, SHA-1, UTC times', () => {
  const cert = sample();
  assert.doesNotThrow(() => new X509Certificate(cert), 'Node takes the crafted certificate');
  const info = certificateInfo(cert);
  assert.equal(info.problem, null);
  assert.equal(info.subject, 'C=US, ST=Virginia, O=Example, Inc., CN=www.example.com + OU=Web, Email=hostmaster@example.com');
  assert.equal(info.issuerdn, 'C=US, O=Example, Inc., CN=Example CA');
  assert.equal(info.serial, '00:9C:FC:DA:1D:A4:70:87:5D');
  assert.equal(info.fingerprint, createHash('sha1').update(cert).digest('hex').replace(/(..)(?!$)/g, '$1:'));
  assert.equal(info.notbefore, '2011-05-04T00:00:00');
  assert.equal(info.notafter, '2049-07-04T23:59:59');
});

test('Node\'s reading of the same certificate agrees where the formats overlap', () => {
  const cert = sample();
  const info = certificateInfo(cert);
  const x = new X509Certificate(cert);
  assert.equal(info.serial!.replace(/:/g, '').replace(/^(00)+/, ''), x.serialNumber.toUpperCase());
  assert.equal(info.fingerprint, x.fingerprint.toLowerCase());
  assert.equal(`${info.notbefore}Z`, new Date(x.validFrom).toISOString().replace('.000Z', 'Z'));
  assert.equal(`${info.notafter}Z`, new Date(x.validTo).toISOString().replace('.000Z', 'Z'));
});

test('names: unknown OIDs as OID(...), registry short names, values of other types (here UniversalString) in hex, UTCTime years 50-99 are 19xx', () => {
  const info = certificateInfo(
    sample({
      subject: name([[['2.5.4.5', 0x13, '12345']], [['2.5.4.9', 0x0c, '1 Main St']], [['2.5.4.97', 0x0c, 'VATGB-123']], [['1.3.6.1.4.1.311.60.2.1.3', 0x13, 'GB']], [['2.5.4.3', 0x1c, Buffer.from([0, 0, 0, 0x41])]]]),
      notBefore: [0x17, '500101000000Z'],
      notAfter: [0x17, '491231235959Z'],
    }),
  );
  assert.equal(info.problem, null);
  assert.equal(info.subject, 'serialNumber=12345, streetAddress=1 Main St, OID(2.5.4.97)=VATGB-123, msJurisdictionCountry=GB, CN=00000041');
  assert.equal(info.notbefore, '1950-01-01T00:00:00');
  assert.equal(info.notafter, '2049-12-31T23:59:59');
});

test('a name with a string that is not UTF-8 prints as x509-parser\'s invalid-name marker; the rest of the certificate still reads', () => {
  const info = certificateInfo(sample({ subject: name([[C], [['2.5.4.3', 0x14, Buffer.from([0x43, 0x61, 0x66, 0xe9])]]]) }));
  assert.equal(info.problem, null);
  assert.equal(info.subject, '<X509Error: Invalid X.509 name>');
  assert.equal(info.issuerdn, 'C=US, O=Example, Inc., CN=Example CA');
});

test('bytes that are not a certificate give a problem and null fields, never an exception', () => {
  const cert = sample();
  const cases: Array<[string, Uint8Array]> = [
    ['empty', new Uint8Array(0)],
    ['truncated', cert.subarray(0, cert.length - 10)],
    ['not DER', Buffer.from('-----BEGIN CERTIFICATE-----')],
    ['indefinite length', Buffer.from([0x30, 0x80, 0x30, 0x80, 0, 0, 0, 0])],
    ['a five-byte length', Buffer.from([0x30, 0x85, 1, 0, 0, 0, 0])],
    ['a bad time', sample({ notBefore: [0x17, '11050400000Z'] })],
    ['an empty serial', sample({ serial: new Uint8Array(0) })],
    ['a DER sequence that is no certificate', der(0x30, der(0x30, der(0x02, Buffer.from([1])), der(0x30), der(0x30), der(0x30), der(0x30), der(0x30)))],
  ];
  for (const [what, bytes] of cases) {
    const info = certificateInfo(bytes);
    assert.ok(info.problem !== null, `${what}: a problem`);
    assert.deepEqual([info.subject, info.issuerdn, info.serial, info.notbefore, info.notafter], [null, null, null, null, null], what);
    assert.match(info.fingerprint, /^[0-9a-f]{2}(:[0-9a-f]{2}){19}$/);
  }
});

test('mutated certificates never throw (2000 seeded bit flips and cuts)', () => {
  const cert = sample();
  const rand = prng(2004);
  let read = 0;
  for (let i = 0; i < 2000; i++) {
    const b = Buffer.from(cert);
    for (let k = 1 + Math.floor(rand() * 4); k > 0; k--) {
      const at = Math.floor(rand() * b.length);
      b[at] = b[at]! ^ (1 << Math.floor(rand() * 8));
    }
    const info = certificateInfo(rand() < 0.2 ? b.subarray(0, Math.floor(rand() * b.length)) : b);
    if (info.problem === null) read++;
  }
  assert.ok(read > 0, 'some mutants are still certificates');
});
