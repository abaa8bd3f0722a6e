export * from './implementation'
