export * from './policy.ts'
export * from './retrievals.ts'
