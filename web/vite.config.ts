// Builds the dashboard (web/) into web/dist, which the server serves as static files. Run from the
// repository root: `vite build --config web/vite.config.ts`. `npm run dev:web` serves it with hot
// reload and forwards /api to a server running on https://127.0.0.1:8443.
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

export default defineConfig({
  root: 'web',
  plugins: [preact()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // No data: URLs: the Content-Security-Policy allows fonts and scripts from 'self' only.
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
  server: {
    proxy: {
      '/api': { target: 'https://127.0.0.1:8443', secure: false, ws: true, changeOrigin: false },
    },
  },
});
