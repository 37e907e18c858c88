import { describe, expect, it } from 'vitest';
import { InputError, parseInputs, secretsOf } from '../../src/action/inputs.ts';

// The inputs as the runner hands them over: '' for anything unset (core.getInput), so defaults
// and blanks must come out the way action.yml documents them.

const parse = (given: Record<string, string>) =>
  parseInputs(
    (n) => given[n] ?? '',
    (n) => n in given,
  );

describe('parseInputs', () => {
  it('fills the documented defaults', () => {
    expect(parse({})).toEqual({
      policy: '.github/error-budget.yml',
      mode: 'enforce',
      'check-name': 'budget-gate',
      'prometheus-headers': {},
      readiness: false,
    });
  });

  it('reads readiness as a boolean and refuses anything but true or false, naming the input', () => {
    expect(parse({ readiness: 'true' }).readiness).toBe(true);
    expect(parse({ readiness: 'false' }).readiness).toBe(false);
    expect(() => parse({ readiness: 'yes' })).toThrow(InputError);
    expect(() => parse({ readiness: 'yes' })).toThrow(/readiness/);
  });

  it('an explicitly empty check-name means no check run; blanks elsewhere mean unset', () => {
    const i = parse({ 'check-name': '', environment: '  ', policy: '' });
    expect(i['check-name']).toBe('');
    expect(i.environment).toBeUndefined();
    expect(i.policy).toBe('.github/error-budget.yml');
  });

  it('reads headers as `Name: value` lines or a JSON object', () => {
    expect(
      parse({ 'prometheus-headers': 'X-Scope-OrgID: agents\n\nAuthorization: Basic abc=\n' })[
        'prometheus-headers'
      ],
    ).toEqual({ 'X-Scope-OrgID': 'agents', Authorization: 'Basic abc=' });
    expect(parse({ 'prometheus-headers': '{"X-Scope-OrgID":"a"}' })['prometheus-headers']).toEqual({
      'X-Scope-OrgID': 'a',
    });
  });

  it.each([
    [{ mode: 'block' }, 'input `mode`: expected enforce or report'],
    [
      { 'prometheus-headers': 'X-Scope-OrgID agents' },
      'input `prometheus-headers`: line 1: expected `Header-Name: value`',
    ],
    [{ 'prometheus-headers': '{"a": 1}' }, 'input `prometheus-headers`: expected a JSON object'],
    [{ 'prometheus-url': 'ftp://prom:9090' }, 'input `prometheus-url`:'],
    [{ at: 'yesterday' }, 'input `at`: expected an ISO-8601 time'],
  ])('refuses %j naming the input', (given, message) => {
    expect(() => parse(given)).toThrow(InputError);
    expect(() => parse(given)).toThrow(message);
  });
});

describe('secretsOf', () => {
  it('masks the token, the Prometheus token, header values and a password in the URL', () => {
    const i = parse({
      token: 'ghs_token',
      'prometheus-url': 'https://reader:p%40ss-word@prom.example.com',
      'prometheus-token': 'prom-token',
      'prometheus-headers': 'X-Api-Key: key-123',
    });
    expect(secretsOf(i).sort()).toEqual(
      ['ghs_token', 'prom-token', 'key-123', 'p%40ss-word', 'p@ss-word'].sort(),
    );
  });
});
