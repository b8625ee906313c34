export * from './types';
export * from './methods';
export * from './errors';
export * from './schema';
export * from './client';
