import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { counterIncrease, fromTemplate } from '../../src/import/promql.ts';

// The two rewrites an import makes to a spec's PromQL: Go's {{.window}} to ${window} with rate()
// over it read as increase(), and a bare counter selector to its increase over the range.

const W = '$' + '{window}';

describe('fromTemplate', () => {
  it('reads rate() over the window as increase(), whatever the label values hold', () => {
    expect(
      fromTemplate(
        'sum(rate(http_request_duration_seconds_count{job="myservice",code=~"(5..|429)"}[{{.window}}]))',
      ),
    ).toEqual({
      query: `sum(increase(http_request_duration_seconds_count{job="myservice",code=~"(5..|429)"}[${W}]))`,
      rateToIncrease: true,
    });
  });

  it('leaves irate(), rate() over a fixed range and subqueries alone, and only fills in the window', () => {
    expect(fromTemplate('sum(irate(x[{{.window}}])) / sum(rate(y[5m]))').query).toBe(
      `sum(irate(x[${W}])) / sum(rate(y[5m]))`,
    );
    expect(fromTemplate('sum_over_time((count(m < 0.5))[{{ .window }}:]) OR on() vector(0)')).toEqual({
      query: `sum_over_time((count(m < 0.5))[${W}:]) OR on() vector(0)`,
      rateToIncrease: false,
    });
  });

  it('for any label value, gives the increase of the same selector', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('a', '(', ')', '[', ']', '\\"', ' ', '|', '5', '{', '}') }),
        (v) => {
          const sel = `m{l="${v}"}`;
          expect(fromTemplate(`sum(rate(${sel}[{{.window}}]))`).query).toBe(`sum(increase(${sel}[${W}]))`);
        },
      ),
    );
  });
});

describe('counterIncrease', () => {
  it('takes the increase of a selector or a sum of one; refuses anything more', () => {
    expect(counterIncrease('http_requests_total{status_code="200"}')).toBe(
      `sum(increase(http_requests_total{status_code="200"}[${W}]))`,
    );
    expect(counterIncrease('sum(http_requests{k8s_cluster="prod",code=~"2xx|4xx"})')).toBe(
      `sum(increase(http_requests{k8s_cluster="prod",code=~"2xx|4xx"}[${W}]))`,
    );
    expect(counterIncrease('sum by (code) (x_total)')).toBe(`sum(increase(x_total[${W}]))`);
    expect(counterIncrease('sum(a_total) + sum(b_total)')).toBeNull();
    expect(counterIncrease('rate(a_total[5m])')).toBeNull();
  });
});
