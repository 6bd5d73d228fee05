// node:test reporter that prints one plain closing line: `tests: N passed, N failed, N skipped`.
// CI reads that line; the spec reporter beside it prints the details. Skipped tests are listed
// above it with their reasons, since scripts/test.mjs fails a run that skipped any.
export default async function* summary(source) {
  let passed = 0
  let failed = 0
  const skipped = []
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue
    // Count tests, not suites, and not the per-file wrapper the runner adds.
    if (event.data.details?.type === 'suite') continue
    if (event.data.file === undefined && event.data.nesting === 0 && event.type === 'test:pass') continue
    const reason = event.data.skip ?? event.data.todo
    if (reason) skipped.push(`skipped: ${event.data.name}${typeof reason === 'string' ? ` (${reason})` : ''}\n`)
    else if (event.type === 'test:pass') passed++
    else failed++
  }
  yield* skipped
  yield `tests: ${passed} passed, ${failed} failed, ${skipped.length} skipped\n`
}
