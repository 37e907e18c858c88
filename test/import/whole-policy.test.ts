import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { cli } from '../support/cli.ts';
import { tempDir } from '../support/tasks.ts';

// Imports that bring a whole policy, on upstream specs the first suite does not hold (Sloth's
// VictoriaMetrics, Kubernetes apiserver and alert-windows examples, osko's samples, Pyrra's
// examples; licences in test/fixtures/import/README.md): risk rules that make a SOFT-PAUSE hold
// something, alerts with their runbooks, ratio specs read as ratios, and refusals that name the kind.

const W = '$' + '{window}';
const fixture = (p: string) => fileURLToPath(new URL(`../fixtures/import/${p}`, import.meta.url));

async function imported(tool: string, ...files: string[]) {
  const r = await cli(['import', tool, ...files]);
  const out = join(tempDir(), 'policy.yml');
  writeFileSync(out, r.stdout);
  const lint = r.code === 0 ? await cli(['lint', out]) : null;
  return { ...r, policy: r.code === 0 ? parse(r.stdout) : null, lint };
}

/** A spec written next to the test, from an upstream one with one thing changed. */
function derived(from: string, name: string, edit: (text: string) => string): string {
  const path = join(tempDir(), name);
  writeFileSync(path, edit(readFileSync(fixture(from), 'utf8')));
  return path;
}

describe('every import brings risk rules', () => {
  it('high-risk prompt and model paths with a comment to adjust them; lint has nothing to warn', async () => {
    const r = await imported('sloth', fixture('sloth/kubernetes-apiserver.yml'));
    expect(r.code).toBe(0);
    expect(r.policy.risk).toEqual({
      default: 'low',
      rules: [
        {
          paths: ['prompts/**', 'models/**', 'config/model*.yml', 'config/model*.yaml'],
          class: 'high',
          description: 'prompt rewrites and model changes',
        },
      ],
    });
    expect(r.stdout).toMatch(/# .*ADJUST THEM to your layout.*\n(#.*\n)*risk:/);
    expect(r.lint?.code).toBe(0);
    expect(r.lint?.stderr).not.toContain('SOFT-PAUSE');
  });

  it('lint warns when SOFT-PAUSE can hold nothing, and the warning goes once a high rule exists', async () => {
    const r = await imported('sloth', fixture('sloth/kubernetes-apiserver.yml'));
    const dir = tempDir();
    const noRisk = r.stdout.replace(/\nrisk:\n( {2}.*\n)+/, '\n');
    expect(noRisk).not.toContain('risk:');
    writeFileSync(join(dir, 'no-risk.yml'), noRisk);
    const lint = await cli(['lint', join(dir, 'no-risk.yml')]);
    expect(lint.code).toBe(0);
    expect(lint.stderr).toMatch(/^\S+no-risk\.yml:\d+:1 risk: SOFT-PAUSE can hold nothing: .*\(warning\)$/m);
    // A high default holds everything under SOFT-PAUSE: nothing to warn about.
    writeFileSync(join(dir, 'high.yml'), `${noRisk}risk: { default: high }\n`);
    const high = await cli(['lint', join(dir, 'high.yml')]);
    expect(high.code).toBe(0);
    expect(high.stderr).not.toContain('SOFT-PAUSE');
  });
});

describe('import sloth, more upstream specs', () => {
  it('the VictoriaMetrics example: a constant total makes error_query a ratio, read from Sloth’s rules', async () => {
    const r = await imported('sloth', fixture('sloth/victoria-metrics.yml'));
    expect(r.code).toBe(0);
    expect(r.lint?.code).toBe(0);
    expect(
      r.policy.slos.map((s: { name: string; target: string; source: unknown }) => [
        s.name,
        s.target,
        s.source,
      ]),
    ).toEqual([
      [
        'foo-bar-grpc-latency-percentile-90',
        '90%',
        { prometheus: { sloth: { service: 'foo-bar', slo: 'grpc-latency-percentile-90' } } },
      ],
      [
        'foo-bar-grpc-latency-percentile-99',
        '99%',
        { prometheus: { sloth: { service: 'foo-bar', slo: 'grpc-latency-percentile-99' } } },
      ],
    ]);
    expect(r.stdout).toContain('total_query vector(1)[{{.window}}] is a constant, so error_query is a ratio');
    expect(r.stdout).not.toContain('vector(1)[' + W);
  });

  it('alert runbook annotations: each SLO’s in the alert comment; a runbook all share goes on the alerts', async () => {
    const r = await imported('sloth', fixture('sloth/kubernetes-apiserver.yml'));
    expect(r.stdout).toContain(
      'page (category=availability, severity=critical, runbook https://github.com/kubernetes-monitoring/kubernetes-mixin/tree/master/runbook.md#alert-name-kubeapierrorshigh)',
    );
    expect(r.stdout).toContain('runbook.md#alert-name-kubeapilatencyhigh');
    // Two runbooks for one policy-wide table: neither is put on the alerts, and the comment says why.
    expect(r.policy.alerts.every((a: { runbook?: string }) => a.runbook === undefined)).toBe(true);
    expect(r.stdout).toContain('The alerts below are policy-wide');

    // The first SLO alone: its runbook is every alert's.
    const one = derived(
      'sloth/kubernetes-apiserver.yml',
      'one.yml',
      (t) => t.split('\n  - name: "requests-latency"')[0]!,
    );
    const single = await imported('sloth', one);
    expect(single.lint).toMatchObject({ code: 0, stderr: '' });
    expect(single.policy.alerts.map((a: { name: string; runbook: string }) => [a.name, a.runbook])).toEqual(
      ['fast-burn', 'steady-burn', 'slow-burn', 'creeping-burn'].map((n) => [
        n,
        'https://github.com/kubernetes-monitoring/kubernetes-mixin/tree/master/runbook.md#alert-name-kubeapierrorshigh',
      ]),
    );
  });

  it('an AlertWindows file is refused for what it is (its kind), not for its apiVersion', async () => {
    const r = await imported('sloth', fixture('sloth/windows-7d.yaml'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "windows-7d.yaml:1: kind AlertWindows is Sloth's alert-window settings (the burn-rate windows for an SLO period), not SLOs",
    );
    expect(r.stderr).toContain('--window 7d');
    expect(r.stderr).not.toMatch(/got sloth\.slok\.dev/);
  });

  it('ManagedPrometheusServiceLevel reads as PrometheusServiceLevel; another tool’s kind is named', async () => {
    const managed = derived('sloth/k8s-home-wifi.yml', 'managed.yml', (t) =>
      t.replace('kind: PrometheusServiceLevel', 'kind: ManagedPrometheusServiceLevel'),
    );
    const [m, plain] = await Promise.all([
      imported('sloth', managed),
      imported('sloth', fixture('sloth/k8s-home-wifi.yml')),
    ]);
    expect(m.lint?.code).toBe(0);
    expect(m.policy.slos).toEqual(plain.policy.slos);
    expect(m.policy.slos).toHaveLength(2);
    const pyrra = await imported('sloth', fixture('pyrra/slo-coredns-response-errors.yaml'));
    expect(pyrra.stderr).toContain('kind ServiceLevelObjective (pyrra.dev/v1alpha1) is not a Sloth spec');
  });
});

describe('import openslo: composite SLOs and osko’s openslo.com/v1', () => {
  it('osko’s samples: openslo.com/v1, a Mimir data source (named or by annotation), string targets', async () => {
    const r = await imported(
      'openslo',
      fixture('osko/openslo_v1_slo.yaml'),
      fixture('osko/openslo_v1_datasource.yaml'),
      fixture('osko/slo_gatekeeper_webhook_response_time_0005.yaml'),
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.lint?.code).toBe(0);
    expect(
      r.policy.slos.map((s: { name: string; target: number; window: string }) => [
        s.name,
        s.target,
        s.window,
      ]),
    ).toEqual([
      ['mimir-mimir-ingestion-latency', 0.99, '28d'],
      ['gatekeeper-gatekeeper-webhook-response-time-0005s', 0.99, '28d'],
    ]);
    expect(r.policy.slos[1].source.prometheus).toEqual({
      good: `sum(increase(controller_runtime_webhook_latency_seconds_bucket{le="0.0005"}[${W}]))`,
      total: `sum(increase(controller_runtime_webhook_latency_seconds_count{}[${W}]))`,
    });
  });

  it('a composite SLO: one policy SLO per objective, each from its own indicator', async () => {
    // OpenSLO's own v1 example with its indicator moved into two objectives, as the spec's
    // composite form has it (no upstream file holds a composite SLO).
    const composite = derived('openslo/v1_slos.yaml', 'composite.yaml', (t) => {
      const doc = parse(t) as { spec: Record<string, unknown> }[];
      const spec = doc[0]!.spec;
      const indicator = spec.indicator;
      delete spec.indicator;
      spec.objectives = [
        { displayName: 'first', target: 0.98, indicator },
        { displayName: 'second', target: 0.99, compositeWeight: 2, indicator },
      ];
      return JSON.stringify(doc);
    });
    const r = await imported('openslo', composite);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.policy.slos.map((s: { name: string; target: number }) => [s.name, s.target])).toEqual([
      ['foo-foo-slo-first', 0.98],
      ['foo-foo-slo-second', 0.99],
    ]);
    expect(r.stdout).toContain('one objective of a composite SLO');
    expect(r.stdout).toContain('compositeWeight 2 not kept');
  });

  it('Timeslices examples and other tools’ resources are refused by what they are', async () => {
    const r = await imported(
      'openslo',
      fixture('openslo/ratio-timeslices.yaml'),
      fixture('openslo/timeslices-slo.yaml'),
      fixture('pyrra/slo-coredns-response-errors.yaml'),
      fixture('sloth/k8s-home-wifi.yml'),
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ratio-timeslices\.yaml:\d+ main-page: RatioTimeslices budgeting/);
    expect(r.stderr).toContain(
      'kind ServiceLevelObjective (pyrra.dev/v1alpha1) is not OpenSLO: `budget-gate import pyrra` reads it',
    );
    expect(r.stderr).toContain(
      'kind PrometheusServiceLevel (sloth.slok.dev/v1) is not OpenSLO: `budget-gate import sloth` reads it',
    );
  });
});

describe('import pyrra', () => {
  it('ratio and latency indicators as counts, the window in days, the target as a percentage', async () => {
    const r = await imported(
      'pyrra',
      ...[
        'caddy-response-latency',
        'slo-apiserver-read-response-errors',
        'slo-apiserver-read-cluster-latency',
        'slo-coredns-response-errors',
        'slo-prometheus-rule-evaluation-failures',
      ].map((f) => fixture(`pyrra/${f}.yaml`)),
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    // lint's one warning is the policy's own: at 90% the default auto-revert share is unreachable.
    expect(r.lint?.code).toBe(0);
    expect(r.lint?.stderr).toMatch(
      /^\S+ slos\[0\]\.target: auto-revert can never fire for caddy-response-latency.*\n$/,
    );
    expect(
      r.policy.slos.map((s: { name: string; target: string; window: string }) => [
        s.name,
        s.target,
        s.window,
      ]),
    ).toEqual([
      ['caddy-response-latency', '90%', '28d'],
      ['apiserver-read-response-errors', '99%', '14d'],
      ['apiserver-read-cluster-latency', '99%', '14d'],
      ['coredns-response-errors', '99.99%', '14d'],
      ['prometheus-rule-evaluation-failures', '99.99%', '14d'],
    ]);
    expect(r.policy.slos[3].source.prometheus).toEqual({
      bad: `sum(increase(coredns_dns_responses_total{job="kube-dns",rcode="SERVFAIL"}[${W}]))`,
      total: `sum(increase(coredns_dns_responses_total{job="kube-dns"}[${W}]))`,
    });
    expect(r.policy.slos[2].source.prometheus.good).toBe(
      `sum(increase(apiserver_request_sli_duration_seconds_bucket{component="apiserver",scope=~"cluster|",verb=~"LIST|GET",le="5.0"}[${W}]))`,
    );
    expect(r.policy.alerts).toHaveLength(4);
  });

  it('a native-histogram latency SLI is named, with the reason', async () => {
    const r = await imported('pyrra', fixture('pyrra/pyrra-connect-latency.yaml'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /pyrra-connect-latency\.yaml:14 pyrra-connect-latency: a native-histogram latency SLI/,
    );
  });
});
