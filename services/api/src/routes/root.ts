import { DEFAULT_MODEL } from '@ct/core';
import type { Request, Response } from 'express';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Name and version of this service, from its package.json (src/ and dist/ are one level below it). */
function packageInfo(): { name: string; version: string } {
  try {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
    if (typeof pkg.name === 'string' && typeof pkg.version === 'string') return { name: pkg.name, version: pkg.version };
  } catch {
    // An install without the package file still answers.
  }
  return { name: '@ct/api', version: '0.0.0' };
}

/** `GET /`: what this service is and where to go next (the labs' root endpoint). */
export function rootHandler() {
  const pkg = packageInfo();
  const body = {
    service: pkg.name,
    version: pkg.version,
    description: 'ct-stack inference API: serves the active version of each model and queues training jobs',
    default_model: DEFAULT_MODEL,
    links: { docs: '/docs', openapi: '/openapi.json', models: '/models', health: '/health' },
  };
  return (_req: Request, res: Response): void => {
    res.json(body);
  };
}
