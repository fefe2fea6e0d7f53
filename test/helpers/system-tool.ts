import fs from 'node:fs';

/**
 * A program from the system a test needs (Chromium, Prometheus). Where it is missing, the test is
 * skipped with a notice naming the install command, so `npm test` passes on a fresh machine with
 * Node alone; with REQUIRE_SYSTEM_TOOLS=true (`.ci/run`, which installs them) a missing one fails.
 */
export function systemTool(spec: { what: string; path: string; install: string; env: string }) {
  const present = fs.existsSync(spec.path);
  const required = process.env.REQUIRE_SYSTEM_TOOLS === 'true';
  const missing = `${spec.what} is missing at ${spec.path}: install it with \`${spec.install}\` (or set ${spec.env})`;
  if (!present && !required)
    console.warn(`SKIPPED: ${missing}. This file's tests run wherever it is installed, and always in .ci/run.`);
  return {
    /** Whether this file's tests run: the program is there, or it is required. */
    runs: present || required,
    /** Throws the install hint when the program is required and missing. */
    check(): void {
      if (!present) throw new Error(`${missing}; REQUIRE_SYSTEM_TOOLS=true makes this a failure`);
    },
  };
}
