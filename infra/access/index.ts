// Access control: tokens, signed requests and the principal registry (see each file).
export * from './tokens.ts';
export * from './request-signature.ts';
export * from './principals.ts';
