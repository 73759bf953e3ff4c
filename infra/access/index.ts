// Access control: tokens, signed requests and the principal registry (see each file).
export * from './tokens.ts';
export * from './requestSignature.ts';
export * from './principals.ts';
