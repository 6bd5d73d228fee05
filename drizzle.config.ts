// drizzle-kit: `pnpm --filter @autoretrieve/store generate` writes SQL migrations into migrations/.
import { defineConfig } from 'drizzle-kit'

export default defineConfig({
  dialect: 'postgresql',
  schema: './packages/store/src/schema/index.ts',
  out: './migrations'
})
