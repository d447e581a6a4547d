import express, { type Response, type Router } from 'express';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * The operator's page at `GET /ui`: static files, no build step. The page holds no data of its
 * own: it calls the JSON API with the token the operator types in (so the API's guards decide
 * what it shows), which is why the route itself is open to anyone.
 *
 * Where the files live: `src/ui` beside the package's `dist`, resolved from the package root
 * (`__dirname/..` is the package root both from `src/` under ts-jest and from `dist/` in
 * service), so the same path works in the repository and in the image (docker/Dockerfile
 * copies `services/api/src/ui`). uPlot is served from node_modules (a production dependency):
 * no CDN, so the page works offline and the CSP can stay `script-src 'self'`.
 */
export const UI_DIR = resolve(__dirname, '..', 'src', 'ui');

/**
 * `script-src 'self'`: no inline script and no third-party origin can run on a page that
 * handles an admin token. Styles: uPlot sizes its elements through the CSSOM (`el.style.x =`),
 * which CSP does not govern, so `style-src 'self'` holds too.
 */
export const UI_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Builds the `/ui` router; throws at start (not on the first request) when a file is missing. */
export function uiRouter(): Router {
  const uplotDir = dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));
  // A fixed list, not a directory: nothing else under src/ui or node_modules is reachable.
  const files: Record<string, string> = {
    'index.html': join(UI_DIR, 'index.html'),
    'app.js': join(UI_DIR, 'app.js'),
    'style.css': join(UI_DIR, 'style.css'),
    'vendor/uplot.iife.min.js': join(uplotDir, 'uPlot.iife.min.js'),
    'vendor/uPlot.min.css': join(uplotDir, 'uPlot.min.css'),
  };
  for (const path of Object.values(files)) if (!existsSync(path)) throw new Error(`ui: ${path} is missing`);

  const send = (res: Response, name: string): void => {
    res.set('Content-Security-Policy', UI_CSP);
    res.set('X-Content-Type-Options', 'nosniff');
    res.set('Referrer-Policy', 'no-referrer');
    // Revalidate every time: a redeployed API must not keep serving an old page against a new API.
    res.set('Cache-Control', 'no-cache');
    // dotfiles: pnpm keeps packages under node_modules/.pnpm, which sendFile refuses by default;
    // the list above is what decides what is reachable.
    res.sendFile(files[name] as string, { dotfiles: 'allow' });
  };
  const router = express.Router();
  router.get('/', (_req, res) => send(res, 'index.html'));
  router.get('/:file', (req, res, next) => (req.params.file in files && req.params.file !== 'index.html' ? send(res, req.params.file) : next()));
  router.get('/vendor/:file', (req, res, next) => (`vendor/${req.params.file}` in files ? send(res, `vendor/${req.params.file}`) : next()));
  return router;
}
