// `npm run bot`. On a fresh clone (no APP_ID in the environment or in .env) it opens Probot's setup
// page, which registers the GitHub App from app.yml and writes its credentials to .env, as the
// README says; asking first for telemetry or a store would stop a newcomer before that. Once the
// app exists, it runs the bot (src/bot/main.ts).
import { existsSync } from 'node:fs';
import { run } from 'probot';

// Probot reads .env itself; reading it here first lets this check see what Probot will.
if (existsSync('.env')) process.loadEnvFile('.env');

if (!process.env.APP_ID && process.env.NODE_ENV !== 'production') {
  process.stderr.write(
    'budget-gate bot: no APP_ID (environment or .env): opening Probot’s setup to register the GitHub App from app.yml; restart `npm run bot` when it has written .env\n',
  );
  // Without an app id Probot serves its setup page instead of the app.
  await run(() => {});
} else {
  await import('../src/bot/main.ts');
}
