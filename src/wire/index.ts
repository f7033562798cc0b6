export * from './bytes.js';
export * from './checksum.js';
export * from './address.js';
export * from './pieces.js';
