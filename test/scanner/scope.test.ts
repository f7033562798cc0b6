import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planScan } from '../../src/scanner/scan.js';
import { expandCidr, inScope, loopbackScope, parseScope, parseTarget, ScopeError } from '../../src/scanner/scope.js';

test('targets: host, host:port, [v6]:port, v6, CIDR', () => {
  assert.deepEqual(parseTarget('127.0.0.1'), { text: '127.0.0.1', host: '127.0.0.1', prefix: null, port: null });
  assert.equal(parseTarget('localhost:8443').port, 8443);
  assert.deepEqual(parseTarget('[::1]:443'), { text: '[::1]:443', host: '::1', prefix: null, port: 443 });
  assert.equal(parseTarget('::1').host, '::1');
  assert.equal(parseTarget('127.0.0.0/30').prefix, 30);
  for (const bad of ['', '127.0.0.1:0', '127.0.0.1:70000', 'host name', '1.2.3.4/33', 'nothost/24', '[1.2.3.4]:1']) {
    assert.throws(() => parseTarget(bad), ScopeError, bad);
  }
});

test('CIDRs expand in order and are capped at a /16', () => {
  assert.deepEqual(expandCidr('127.0.0.5', 30), ['127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7']);
  assert.equal(expandCidr('10.0.0.0', 16).length, 65536);
  assert.throws(() => expandCidr('10.0.0.0', 15), /at most 65536/);
  assert.deepEqual(expandCidr('::1', 127), ['0:0:0:0:0:0:0:0', '0:0:0:0:0:0:0:1']);
});

test('without a scope file only loopback is in scope', () => {
  const scope = loopbackScope();
  assert.ok(inScope(scope, '127.0.0.1'));
  assert.ok(inScope(scope, '127.255.255.254'));
  assert.ok(inScope(scope, '::1'));
  assert.ok(!inScope(scope, '128.0.0.1'));
  assert.ok(!inScope(scope, '10.0.0.1'));
  assert.ok(!inScope(scope, '::2'));
  assert.ok(!inScope(scope, 'not-an-address'));
});

test('an out-of-scope target is refused with the reason and how to authorise it', async () => {
  await assert.rejects(planScan(['198.51.100.7:443']), (err: unknown) => {
    assert.ok(err instanceof ScopeError);
    assert.match(err.message, /198\.51\.100\.7:443 \(198\.51\.100\.7\) is outside the scope \(127\.0\.0\.0\/8, ::1\/128\)/);
    assert.match(err.message, /only loopback/);
    assert.match(err.message, /--scope FILE/);
    return true;
  });
  // One address of a CIDR outside refuses the whole target.
  await assert.rejects(planScan(['126.255.255.254/31']), ScopeError);
});

test('a scope file authorises its CIDRs; comments and blank lines are ignored; mistakes say file:line', async () => {
  const scope = parseScope('# lab\n\n192.0.2.0/24  # test net\n2001:db8::/64\n198.51.100.9\n', 'scope.txt');
  assert.deepEqual(scope.cidrs, ['192.0.2.0/24', '2001:db8::/64', '198.51.100.9']);
  assert.ok(inScope(scope, '192.0.2.200'));
  assert.ok(inScope(scope, '2001:db8::5'));
  assert.ok(inScope(scope, '198.51.100.9'));
  assert.ok(!inScope(scope, '198.51.100.10'));
  assert.ok(!inScope(scope, '127.0.0.1'), 'a scope file replaces the loopback default');
  const plan = await planScan(['192.0.2.0/31'], [443, 25], scope);
  assert.deepEqual(
    plan.map((e) => `${e.address}:${e.port}`),
    ['192.0.2.0:443', '192.0.2.0:25', '192.0.2.1:443', '192.0.2.1:25'],
  );
  await assert.rejects(planScan(['192.0.3.1'], [443], scope), /Add it to scope\.txt only if you are authorised/);
  assert.throws(() => parseScope('192.0.2.0/24\nbogus\n', 'scope.txt'), /scope\.txt:2: "bogus" is not a CIDR/);
  assert.throws(() => parseScope('# nothing\n', 'empty.txt'), /no CIDRs listed/);
});

test('host names resolve, and the finding label keeps the name', async () => {
  const plan = await planScan(['localhost:8443']);
  assert.equal(plan.length, 1);
  assert.ok(inScope(loopbackScope(), plan[0]!.address));
  assert.match(plan[0]!.label, /^localhost\//);
});
