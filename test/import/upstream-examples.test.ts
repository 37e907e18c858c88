import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { cli } from '../support/cli.ts';
import { tempDir } from '../support/tasks.ts';

// The importers on the upstream projects' own example specs (test/fixtures/import, with their
// licence): what comes over, what is named as not carried over, and that `lint` accepts the result.

/** The policy's range placeholder, as the importers write it. */
const W = '$' + '{window}';
const fixture = (p: string) => fileURLToPath(new URL(`../fixtures/import/${p}`, import.meta.url));

async function imported(tool: 'openslo' | 'sloth', ...files: string[]) {
  const r = await cli(['import', tool, ...files.map(fixture)]);
  const out = join(tempDir(), 'policy.yml');
  writeFileSync(out, r.stdout);
  const lint = r.code === 0 ? await cli(['lint', out]) : null;
  return { ...r, policy: r.code === 0 ? parse(r.stdout) : null, lint };
}

describe('budget-gate import sloth', () => {
  it('getting-started: the SLO, its rate() read as increase(), alerts as severities; the plugin chain named', async () => {
    const r = await imported('sloth', 'sloth/getting-started.yml');
    expect(r.code).toBe(0);
    expect(r.lint).toMatchObject({ code: 0, stderr: '' });
    expect(r.policy.slos).toEqual([
      {
        name: 'myservice-requests-availability',
        description: 'Common SLO based on availability for HTTP request responses.',
        sli: { kind: 'success' },
        target: '99.9%',
        window: '30d',
        scope: 'all',
        source: {
          prometheus: {
            bad: `sum(increase(http_request_duration_seconds_count{job="myservice",code=~"(5..|429)"}[${W}]))`,
            total: `sum(increase(http_request_duration_seconds_count{job="myservice"}[${W}]))`,
          },
        },
      },
    ]);
    expect(r.policy.alerts.map((a: { name: string; severity: string }) => `${a.name}:${a.severity}`)).toEqual(
      ['fast-burn:sev1', 'steady-burn:sev2', 'slow-burn:sev3', 'creeping-burn:sev3'],
    );
    // Where it came from, on the line before it; Sloth's alert labels, and what was not kept.
    expect(r.stdout).toMatch(
      /# from sloth .*getting-started\.yml:12 myservice\/requests-availability\n( +#.*\n)* +- name: myservice-requests-availability/,
    );
    expect(r.stdout).toContain('page (category=availability, severity=pageteam, routing_key=myteam)');
    expect(r.stdout).toContain('page for: 5m, ticket for: 10m not kept');
    expect(r.stderr).toMatch(/not imported: sloth .*getting-started\.yml:8: slo_plugins/);
  });

  it('the Kubernetes CRD (camelCase keys) gives the same SLO as the plain file', async () => {
    const [crd, plain] = await Promise.all([
      imported('sloth', 'sloth/k8s-getting-started.yml'),
      imported('sloth', 'sloth/getting-started.yml'),
    ]);
    expect(crd.lint?.code).toBe(0);
    expect(crd.policy.slos).toEqual(plain.policy.slos);
  });

  it('several files and documents; a name taken twice is suffixed', async () => {
    const r = await imported(
      'sloth',
      'sloth/multifile.yml',
      'sloth/home-wifi.yml',
      'sloth/getting-started.yml',
    );
    expect(r.lint?.code).toBe(0);
    expect(r.policy.slos.map((s: { name: string; target: string }) => `${s.name} ${s.target}`)).toEqual([
      'myservice-requests-availability 99.9%',
      'myservice2-requests-availability 99.99%',
      'home-wifi-good-wifi-client-satisfaction 95%',
      'home-wifi-risk-wifi-client-satisfaction 99.9%',
      'myservice-requests-availability-2 99.9%',
    ]);
    // A subquery over the window keeps its colon: [${window}:].
    expect(r.policy.slos[2].source.prometheus.total).toBe(
      `sum_over_time((count(unifipoller_client_satisfaction_ratio))[${W}:])`,
    );
  });

  it('alerts disabled in the spec stay off', async () => {
    const r = await imported('sloth', 'sloth/no-alerts.yml');
    expect(r.lint?.code).toBe(0);
    expect(r.policy.alerts).toEqual([]);
    expect(r.stdout).toContain('myapp-http-availability: page disabled; ticket disabled');
  });

  it('raw error ratios and SLI plugins are named and nothing is written: exit 2', async () => {
    const raw = await imported('sloth', 'sloth/raw-home-wifi.yml');
    expect(raw).toMatchObject({ code: 2, stdout: '' });
    expect(raw.stderr).toMatch(
      /raw-home-wifi\.yml:22 home-wifi\/wifi-client-satisfaction: a raw error-ratio SLI/,
    );
    const plugin = await imported('sloth', 'sloth/plugin-getting-started.yml');
    expect(plugin.code).toBe(2);
    expect(plugin.stderr).toContain('an SLI plugin (getting_started_availability)');
  });
});

describe('budget-gate import openslo', () => {
  it('v1 counters without a range become increase() over each range; dimensions and defaults are said', async () => {
    const r = await imported('openslo', 'openslo/v1_slos.yaml');
    // Valid; lint's one warning is the policy's own: at 98% the default auto-revert line is unreachable.
    expect(r.lint?.code).toBe(0);
    expect(r.lint?.stderr).toMatch(
      /^\S+:16:13 slos\[0\]\.target: auto-revert can never fire for foo-foo-slo.*\(warning\)\n$/,
    );
    expect(r.policy.slos).toEqual([
      {
        name: 'foo-foo-slo',
        sli: { kind: 'success' },
        target: 0.98,
        window: '30d',
        scope: 'all',
        source: {
          prometheus: {
            good: `sum(increase(http_requests_total{status_code="200"}[${W}]))`,
            total: `sum(increase(http_requests_total{}[${W}]))`,
          },
        },
      },
    ]);
    for (const note of [
      'no timeWindow: 30d',
      'no budgetingMethod: Occurrences',
      'dimensions (following, another) not kept',
    ])
      expect(r.stdout).toContain(note);
  });

  it('v1alpha (Sloth’s OpenSLO examples): one SLO per objective, windows in count and unit', async () => {
    const r = await imported(
      'openslo',
      'openslo/openslo-kubernetes-apiserver.yml',
      'openslo/openslo-getting-started.yml',
    );
    expect(r.lint?.code).toBe(0);
    expect(
      r.policy.slos.map((s: { name: string; target: number; window: string }) => [
        s.name,
        s.target,
        s.window,
      ]),
    ).toEqual([
      ['k8s-apiserver-requests-availability-openslo', 0.999, '30d'],
      ['k8s-apiserver-requests-latency-openslo-1', 0.99, '30d'],
      ['k8s-apiserver-requests-latency-openslo-2', 0.999, '30d'],
      ['my-service-sloth-slo-my-service', 0.999, '30d'],
    ]);
    expect(r.policy.slos[1].source.prometheus.good).toBe(
      `sum(increase(apiserver_request_duration_seconds_bucket{le="0.4",verb!="WATCH"}[${W}]))`,
    );
    expect(r.stdout).toMatch(
      /# from openslo .*openslo-kubernetes-apiserver\.yml:53 requests-latency-openslo/,
    );
  });

  it('Timeslices budgeting, threshold metrics, raw ratios and other data sources are each named', async () => {
    const r = await imported(
      'openslo',
      'openslo/slos.yaml',
      'openslo/occurences-slo.yaml',
      'openslo/slis.yaml',
      'openslo/v1_slos.yaml',
    );
    expect(r.code).toBe(0);
    expect(r.lint?.code).toBe(0);
    expect(r.policy.slos).toHaveLength(1);
    const lines = r.stderr.trim().split('\n');
    for (const why of [
      /slos\.yaml:37 web-availability: Timeslices budgeting counts good time slices/,
      /occurences-slo\.yaml:25 search-slo \(objective "Good experience"\): a thresholdMetric SLI/,
      /slis\.yaml:1 SLI search-availability: good reads from Datadog/,
      /slis\.yaml:28 SLI end-user-response: bad reads from AppDynamics/,
      /slis\.yaml:56 SLI wifi-client-satisfaction: a raw ratioMetric/,
      /slis\.yaml:82 SLI annotator-throughput: a thresholdMetric SLI/,
    ])
      expect(
        lines.some((l) => why.test(l)),
        String(why),
      ).toBe(true);
    // The file says so too, in its header.
    expect(r.stdout).toMatch(/^# Not imported:\n# {3}openslo .*slos\.yaml:37 web-availability: Timeslices/m);
  });

  it('an unreadable spec is a located error, exit 2', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'bad.yaml'), 'apiVersion: openslo/v1\nkind: SLO\nspec: [unclosed\n');
    const r = await cli(['import', 'openslo', join(dir, 'bad.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.yaml:\d+:\d+: not valid YAML/);
    expect((await cli(['import', 'nobl9', 'x.yaml'])).stderr).toContain('expected openslo, sloth or pyrra');
  });

  it('every fixture is in the licence note', () => {
    const note = readFileSync(fixture('README.md'), 'utf8');
    expect(note).toContain('Apache License 2.0');
    for (const f of [
      'sloth/getting-started.yml',
      'sloth/k8s-getting-started.yml',
      'sloth/multifile.yml',
      'sloth/home-wifi.yml',
      'sloth/no-alerts.yml',
      'sloth/raw-home-wifi.yml',
      'sloth/plugin-getting-started.yml',
      'openslo/slos.yaml',
      'openslo/slis.yaml',
      'openslo/v1_slos.yaml',
      'openslo/occurences-slo.yaml',
      'openslo/openslo-getting-started.yml',
      'openslo/openslo-kubernetes-apiserver.yml',
    ])
      expect(note).toContain(`\`${f}\``);
  });
});
