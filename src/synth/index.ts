export * from './headers.js';
export * from './traffic.js';
export { writeDemoCapture, dnsQuery } from './demo.js';
export { pctExploitFixture, pctClientHello, sslv2ClientHello, type PctHelloSpec } from './pct.js';
