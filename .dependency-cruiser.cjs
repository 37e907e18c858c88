// The layering of budget-gate, checked on every `npm run lint` (and so by CI). Folders are the
// product's ideas; these rules keep the decision core pure and the surfaces apart.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'A cycle makes two modules one idea in two files: merge them or cut the loop.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'policy-is-pure',
      severity: 'error',
      comment:
        'src/policy is the decision core: time and data come in as arguments. It imports only itself and pure libraries (zod, yaml, picomatch, sketches).',
      from: { path: '^src/policy/' },
      to: {
        pathNot: [
          '^src/policy/',
          '^node_modules/(zod|yaml|picomatch|@datadog/sketches-js)/',
          '^(node:)?crypto$',
        ],
      },
    },
    {
      name: 'policy-no-io-builtins',
      severity: 'error',
      comment: 'No file system, network, process or clock modules in the decision core.',
      from: { path: '^src/policy/' },
      // Hashing (the audit chain) is deterministic computation, not I/O.
      to: { dependencyTypes: ['core'], pathNot: '^(node:)?crypto$' },
    },
    {
      name: 'surfaces-apart',
      severity: 'error',
      comment: 'The Action, the bot and the CLI never import each other: what they share lives below them.',
      from: { path: '^src/(action|bot|cli)/' },
      to: { path: '^src/(action|bot|cli)/', pathNot: '^src/$1/' },
    },
    {
      name: 'adapters-below-surfaces',
      severity: 'error',
      comment:
        'Adapters (telemetry, github, notify, store, report, import, scenarios, gate pipeline) never import a surface.',
      from: { path: '^src/(telemetry|github|notify|store|report|import|scenarios|gate|repo|dashboard)/' },
      to: { path: '^src/(action|bot|cli)/' },
    },
    {
      name: 'src-not-tests',
      severity: 'error',
      comment: 'Shipped code never imports tests, benches or scripts.',
      from: { path: '^src/' },
      to: { path: '^(test|bench|scripts)/' },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      from: {},
      // @octokit/types ships declarations only: there is nothing to resolve at run time.
      to: { couldNotResolve: true, pathNot: '^@octokit/types$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    parser: 'swc',
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
  },
};
