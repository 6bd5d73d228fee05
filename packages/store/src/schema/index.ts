export * from './paych.ts'
export * from './policy.ts'
export * from './retrievals.ts'
