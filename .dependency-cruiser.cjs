/**
 * The layering rules of docs/architecture.md, checked by `npm run lint` (depcruise).
 * Paths are relative to the repository root; type-only imports count too.
 */
const APP = '^(gateway|subgraphs|emulators|embedded|scripts|bench|test)/';
const PROVIDER_SDKS = '^node_modules/(stripe|@hubspot/api-client|@sendgrid/[^/]+|@paypal/[^/]+|paypal-[^/]+)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'lib-imports-no-app',
      comment: 'lib/ is shared code: it imports nothing from the app, the emulators, the scripts or the tests.',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: APP },
    },
    {
      name: 'sdk-only-in-adapters',
      comment: 'Only the provider adapters (subgraphs/<name>/provider/) import a provider SDK; test helpers may.',
      severity: 'error',
      from: { pathNot: ['^subgraphs/[^/]+/provider/', '^test/'] },
      to: { path: PROVIDER_SDKS },
    },
    {
      name: 'no-cross-subgraph',
      comment:
        'A subgraph imports nothing from another subgraph: shared code lives in lib/, the rest goes over the graph or the event bus.',
      severity: 'error',
      from: { path: '^subgraphs/([^/]+)/' },
      to: { path: '^subgraphs/', pathNot: '^subgraphs/$1/' },
    },
    {
      name: 'emulators-import-no-app',
      comment: 'The emulators stand in for the providers: they know nothing of the subgraphs or the gateway.',
      severity: 'error',
      from: { path: '^emulators/' },
      to: { path: '^(subgraphs|gateway)/' },
    },
    {
      name: 'gateway-imports-no-subgraph',
      comment: 'The gateway reaches the subgraphs over HTTP only.',
      severity: 'error',
      from: { path: '^gateway/' },
      to: { path: '^subgraphs/' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that resolves to nothing is a typo or a missing dependency.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|schema|test/generated)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'types', 'default'],
      mainFields: ['main', 'types', 'typings'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
