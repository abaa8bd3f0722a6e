export * from './implementation'
export * from './secrets'
