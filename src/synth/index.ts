export * from './headers.js';
export * from './traffic.js';
export { writeDemoCapture, dnsQuery } from './demo.js';
