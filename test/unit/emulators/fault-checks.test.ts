import { FaultValidationError } from '../../../emulators/shared/faults';
import { validateFaults as paypalFaults } from '../../../emulators/paypal/faults';
import { validateFaults as stripeFaults } from '../../../emulators/stripe/faults';

// The checks both emulators share live in emulators/shared/faults.ts: each refuses the same way.
describe.each([
  ['stripe', stripeFaults],
  ['paypal', paypalFaults],
])('%s fault switches', (_name, validate) => {
  it('takes a 5xx server_error and a hang with its milliseconds', () => {
    expect(
      validate([
        { kind: 'server_error', status: 502 },
        { kind: 'hang', ms: 50 },
      ]),
    ).toEqual([
      { kind: 'server_error', status: 502 },
      { kind: 'hang', ms: 50 },
    ]);
  });

  it.each([
    [{ kind: 'server_error', status: 418 }, 'faults[0].status must be 500, 502 or 503'],
    [{ kind: 'hang' }, 'faults[0].ms must be a number of milliseconds'],
    [{ kind: 'hang', ms: -1 }, 'faults[0].ms must be a number of milliseconds'],
    [{ kind: 'server_error', times: 0 }, 'faults[0].times must be a positive integer'],
  ])('refuses %j', (fault, message) => {
    expect(() => validate([fault])).toThrow(new FaultValidationError(message));
  });
});
