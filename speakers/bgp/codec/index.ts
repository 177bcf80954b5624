// Public surface of the BGP-4 message codec (RFC 4271 section 4 and the extensions it names).
export * from './as-path.js';
export * from './attributes.js';
export * from './capabilities.js';
export * from './errors.js';
export * from './four-octet-as.js';
export * from './framer.js';
export * from './header.js';
export * from './ip.js';
export * from './message.js';
export * from './mp-nlri.js';
export * from './notification.js';
export * from './open.js';
export * from './options.js';
export * from './prefix.js';
export * from './reader.js';
export * from './route-refresh.js';
export * from './update.js';
